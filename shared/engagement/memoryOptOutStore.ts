import { OptOutSet, keysOf, personKey, type OptOutStore, type Person } from './optOutStore';

/** The in-memory twin of TableOptOutStore, for unit tests: same keys, same answers. */
export class MemoryOptOutStore implements OptOutStore {
  /** tenant → person key → when. */
  private readonly tenants = new Map<string, Map<string, Date>>();
  /** Tenant reads so far (what a broadcast costs the table). */
  reads = 0;

  async optOut(person: Person, at = new Date()): Promise<boolean> {
    if (await this.isOptedOut(person)) return false;
    const rows = this.tenants.get(person.tenantId) ?? new Map<string, Date>();
    rows.set(personKey(person), at);
    this.tenants.set(person.tenantId, rows);
    return true;
  }

  async optIn(person: Person): Promise<boolean> {
    const rows = this.tenants.get(person.tenantId);
    let removed = false;
    for (const key of keysOf(person)) removed = (rows?.delete(key) ?? false) || removed;
    return removed;
  }

  async isOptedOut(person: Person): Promise<boolean> {
    const rows = this.tenants.get(person.tenantId);
    return keysOf(person).some((key) => rows?.has(key) === true);
  }

  async tenant(tenantId: string): Promise<OptOutSet> {
    this.reads += 1;
    return new OptOutSet(new Set(this.tenants.get(tenantId)?.keys() ?? []));
  }
}
