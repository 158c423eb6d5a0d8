import { expandStep, type ExpansionCursor, type ExpansionReaders } from '../audience/audienceExpansion';
import { describeSource, type ResolvedSource } from '../audience/audienceSource';
import { isPerson, isUnreached, recipientKey } from '../audience/plannedRecipient';
import type { Clock } from '../clock';
import type { AudiencePreview } from './audiencePreview';

/** What one audience source reaches, counted without sending anything. */
export interface SourcePreview {
  /** The source as the request named it, resolved: `team "Finance" (members)`, `group <id>`. */
  readonly source: string;
  /** People and conversations it names (a lower bound when `complete` is false), others' included. */
  readonly reaches: number;
  /** False when counting stopped at the time budget: `reaches` is "at least". */
  readonly complete: boolean;
  /** Named but not in the directory (emails, the group itself). */
  readonly notFound: number;
  /** Guests of the organisation among the people found: not reached. */
  readonly guest: number;
}

export interface AudienceSourcesPreview extends AudiencePreview {
  readonly sources: readonly SourcePreview[];
}

/**
 * The preview of a request with `audience`: each source expanded page by
 * page as the planner does (rosters, channel lists, Graph lookups; nothing
 * is opened, installed or sent), until the time budget runs out; a source
 * cut short is "at least" its count, and the sources after it are not
 * counted (reaches 0, incomplete). `matched` is the union, each person or
 * conversation once, not counting those who cannot be reached.
 */
export async function previewAudienceSources(
  sources: readonly ResolvedSource[],
  readers: ExpansionReaders,
  options: { readonly clock: Clock; readonly timeBudgetMs: number; readonly maxTenantsListed?: number },
): Promise<AudienceSourcesPreview> {
  const deadline = options.clock.now() + options.timeBudgetMs;
  const seen = new Set<string>();
  const byConversationType: Record<string, number> = {};
  const tenants = new Map<string, { matched: number; byConversationType: Record<string, number> }>();
  const previews: SourcePreview[] = [];
  for (const [index, source] of sources.entries()) {
    const counted = { reaches: 0, notFound: 0, guest: 0 };
    let cursor: ExpansionCursor | undefined = { source: index };
    let complete = true;
    while (cursor !== undefined && cursor.source === index) {
      if (options.clock.now() >= deadline) {
        complete = false;
        break;
      }
      const step = await expandStep(sources, cursor, readers);
      for (const recipient of step.recipients) {
        counted.reaches += 1;
        if (isUnreached(recipient)) {
          if (recipient.reason === 'notFound') counted.notFound += 1;
          if (recipient.reason === 'guest') counted.guest += 1;
          continue;
        }
        const key = JSON.stringify([recipient.tenantId, recipientKey(recipient)]);
        if (seen.has(key)) continue;
        seen.add(key);
        const type = isPerson(recipient) ? 'personal' : recipient.conversationType;
        byConversationType[type] = (byConversationType[type] ?? 0) + 1;
        const tenant = tenants.get(recipient.tenantId) ?? { matched: 0, byConversationType: {} };
        tenant.matched += 1;
        tenant.byConversationType[type] = (tenant.byConversationType[type] ?? 0) + 1;
        tenants.set(recipient.tenantId, tenant);
      }
      cursor = step.next;
    }
    previews.push({ source: describeSource(source), ...counted, complete });
  }
  const listed = [...tenants.entries()]
    .map(([tenantId, tenant]) => ({ tenantId, ...tenant }))
    .sort((a, b) => b.matched - a.matched || (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0))
    .slice(0, options.maxTenantsListed ?? 100);
  return {
    matched: seen.size,
    complete: previews.every((preview) => preview.complete),
    byConversationType,
    tenantCount: tenants.size,
    tenants: listed,
    sources: previews,
  };
}
