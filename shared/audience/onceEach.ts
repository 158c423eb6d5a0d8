import type { PersonClaims } from './personClaims';
import { recipientKey, type PlannedRecipient } from './plannedRecipient';

/**
 * A planning step's recipients, each once: repeats within the step are
 * dropped (first kept), then, with `claiming`, each tenant's keys are claimed
 * for the step and those another step holds are left out.
 */
export async function onceEach(
  recipients: readonly PlannedRecipient[],
  claiming: { readonly claims: PersonClaims; readonly id: string; readonly page: number } | undefined,
): Promise<PlannedRecipient[]> {
  const seen = new Set<string>();
  const distinct = recipients.filter((recipient) => {
    const key = JSON.stringify([recipient.tenantId, recipientKey(recipient)]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (claiming === undefined) return distinct;
  const byTenant = new Map<string, string[]>();
  for (const recipient of distinct) byTenant.set(recipient.tenantId, [...(byTenant.get(recipient.tenantId) ?? []), recipientKey(recipient)]);
  const owned = new Set<string>();
  for (const [tenantId, keys] of byTenant) {
    for (const key of await claiming.claims.claim(claiming.id, tenantId, claiming.page, keys)) owned.add(JSON.stringify([tenantId, key]));
  }
  return distinct.filter((recipient) => owned.has(JSON.stringify([recipient.tenantId, recipientKey(recipient)])));
}
