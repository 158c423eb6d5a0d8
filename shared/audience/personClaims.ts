/**
 * Each person once per notification: before a planning step writes its
 * chunk of a tenant's recipients, it claims every recipient's key
 * (recipientKey) for that step. A key already claimed by another step is
 * someone an earlier step (another team, group or page) planned: left out.
 * A key claimed by the same step is kept: a step redone after a crash writes
 * the same people again, under the same chunk keys, so nobody is lost and
 * nobody is in two chunks.
 */
export interface PersonClaims {
  /**
   * Claims `keys` (distinct) for step `page` of the notification's tenant;
   * returns the keys this step owns (claimed now, or by this same step before).
   */
  claim(id: string, tenantId: string, page: number, keys: readonly string[]): Promise<ReadonlySet<string>>;
}

/** In memory, for unit tests: the same answers as the table. */
export class MemoryPersonClaims implements PersonClaims {
  private readonly claims = new Map<string, number>();

  async claim(id: string, tenantId: string, page: number, keys: readonly string[]): Promise<ReadonlySet<string>> {
    const owned = new Set<string>();
    for (const key of keys) {
      const name = JSON.stringify([id, tenantId, key]);
      const holder = this.claims.get(name) ?? page;
      this.claims.set(name, holder);
      if (holder === page) owned.add(key);
    }
    return owned;
  }
}
