import type { Clock } from '../clock';
import { defaultPageSize, type ConversationFilter, type ConversationStore } from '../storage/conversationStore';

/**
 * Who a notification would reach, counted without sending anything: the
 * stored conversations matching its target, by tenant and by conversation
 * type. It reads the store a page at a time (the same listing and filter a
 * send uses), so it holds one page in memory whatever the audience size.
 */

export interface TenantAudience {
  /** As stored; empty for conversations of channels without tenants (the Emulator). */
  readonly tenantId: string;
  readonly matched: number;
  /** Counts by conversation type as stored (`personal`, `groupChat`, `channel`; other channels: what they send, or ''). */
  readonly byConversationType: Readonly<Record<string, number>>;
}

export interface AudiencePreview {
  /** Stored conversations that match the target (a lower bound when `complete` is false). */
  readonly matched: number;
  /** False when counting stopped at the time budget before the last page. */
  readonly complete: boolean;
  readonly byConversationType: Readonly<Record<string, number>>;
  /** Distinct tenants among the matches (all of them, even past `maxTenantsListed`). */
  readonly tenantCount: number;
  /** Largest tenants first (ties by id), at most `maxTenantsListed` of them. */
  readonly tenants: readonly TenantAudience[];
}

export interface AudiencePreviewOptions {
  /** Stop listing after this long and answer with what was counted, marked incomplete. */
  readonly timeBudgetMs: number;
  readonly clock: Clock;
  readonly pageSize?: number;
  /** Default 100: a page can show that many; the total still counts every tenant. */
  readonly maxTenantsListed?: number;
}

export async function previewAudience(
  store: ConversationStore,
  filter: ConversationFilter | undefined,
  options: AudiencePreviewOptions,
): Promise<AudiencePreview> {
  const { clock, timeBudgetMs, pageSize = defaultPageSize, maxTenantsListed = 100 } = options;
  const deadline = clock.now() + timeBudgetMs;
  const tenants = new Map<string, { matched: number; byConversationType: Record<string, number> }>();
  const byConversationType: Record<string, number> = {};
  let matched = 0;
  let continuationToken: string | undefined;
  let complete = true;
  do {
    if (clock.now() >= deadline) {
      complete = false;
      break;
    }
    const page = await store.list({ filter, continuationToken, pageSize });
    for (const conversation of page.items) {
      matched++;
      const type = conversation.conversationType;
      byConversationType[type] = (byConversationType[type] ?? 0) + 1;
      let tenant = tenants.get(conversation.tenantId);
      if (tenant === undefined) {
        tenant = { matched: 0, byConversationType: {} };
        tenants.set(conversation.tenantId, tenant);
      }
      tenant.matched++;
      tenant.byConversationType[type] = (tenant.byConversationType[type] ?? 0) + 1;
    }
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined);

  const listed = [...tenants.entries()]
    .map(([tenantId, tenant]) => ({ tenantId, ...tenant }))
    .sort((a, b) => b.matched - a.matched || (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0))
    .slice(0, maxTenantsListed);
  return { matched, complete, byConversationType, tenantCount: tenants.size, tenants: listed };
}
