/**
 * The fake Bot Connector's log of accepted updates (PUT) and deletes (DELETE) of activities: when each
 * tenant's first one arrived, when the last did, and how many times each conversation was changed.
 * The bench reads it to time an edit or a recall pass against the channel's bound.
 */

export type ChangeKind = 'update' | 'delete';

/** What the log says about one kind of change since the connector's last reset. */
export interface ChangeLogSummary {
  /** Accepted changes of this kind. */
  readonly accepted: number;
  /** Conversations changed at least once. */
  readonly conversations: number;
  /** Conversations changed more than once. */
  readonly changedMoreThanOnce: number;
  /** `Date.now()` of each tenant's first accepted change, by tenant. */
  readonly firstAtByTenant: Readonly<Record<string, number>>;
  /** `Date.now()` of the last accepted change; 0 when there was none. */
  readonly lastAt: number;
  /** `Date.now()` of each tenant's last accepted change, by tenant. */
  readonly lastAtByTenant: Readonly<Record<string, number>>;
  /** The longest time between two accepted changes of a tenant, in ms, by tenant: where a pass stalled. */
  readonly longestPauseByTenant: Readonly<Record<string, number>>;
}

export class ActivityChangeLog {
  private readonly byKind = new Map<ChangeKind, KindLog>();

  note(kind: ChangeKind, tenantId: string, conversationId: string, at: number = Date.now()): void {
    let log = this.byKind.get(kind);
    if (log === undefined) {
      log = { accepted: 0, perConversation: new Map(), firstAtByTenant: new Map(), lastAtByTenant: new Map(), longestPauseByTenant: new Map(), lastAt: 0 };
      this.byKind.set(kind, log);
    }
    log.accepted += 1;
    log.perConversation.set(conversationId, (log.perConversation.get(conversationId) ?? 0) + 1);
    if (!log.firstAtByTenant.has(tenantId)) log.firstAtByTenant.set(tenantId, at);
    const previous = log.lastAtByTenant.get(tenantId);
    if (previous !== undefined) log.longestPauseByTenant.set(tenantId, Math.max(log.longestPauseByTenant.get(tenantId) ?? 0, at - previous));
    log.lastAtByTenant.set(tenantId, at);
    log.lastAt = Math.max(log.lastAt, at);
  }

  summary(kind: ChangeKind): ChangeLogSummary {
    const log = this.byKind.get(kind);
    if (log === undefined) return { accepted: 0, conversations: 0, changedMoreThanOnce: 0, firstAtByTenant: {}, lastAt: 0, lastAtByTenant: {}, longestPauseByTenant: {} };
    return {
      accepted: log.accepted,
      conversations: log.perConversation.size,
      changedMoreThanOnce: [...log.perConversation.values()].filter((count) => count > 1).length,
      firstAtByTenant: Object.fromEntries(log.firstAtByTenant),
      lastAt: log.lastAt,
      lastAtByTenant: Object.fromEntries(log.lastAtByTenant),
      longestPauseByTenant: Object.fromEntries(log.longestPauseByTenant),
    };
  }

  clear(): void {
    this.byKind.clear();
  }
}

interface KindLog {
  accepted: number;
  readonly perConversation: Map<string, number>;
  readonly firstAtByTenant: Map<string, number>;
  readonly lastAtByTenant: Map<string, number>;
  readonly longestPauseByTenant: Map<string, number>;
  lastAt: number;
}
