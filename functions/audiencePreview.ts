import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { realClock } from '../shared/clock';
import { readJsonBody } from '../shared/http/jsonRequestBody';
import { previewAudience } from '../shared/notifications/audiencePreview';
import { parseNotificationRequest } from '../shared/notifications/notificationRequest';
import { previewAudienceSources } from '../shared/notifications/audienceSourcesPreview';
import { resolveAudience } from '../shared/audience/resolveAudience';
import { GraphPermissionError, GraphUnavailableError } from '../shared/graph/graphErrors';
import { getServices } from '../shared/services';
import { TableUnavailableError } from '../shared/storage/tableClient';

/**
 * A dry run of `POST /api/notifications`: the same body, validated the same
 * way, answered with how many stored conversations it would reach, by tenant
 * and by conversation type. Sends nothing and stores nothing.
 *
 * Status: 200 the count ({ matched, complete, byConversationType, tenantCount,
 * tenants }); 400 the body is invalid ({"errors": [...]}); 413 it is over
 * NOTIFY_MAX_BODY_BYTES; 415 it is not JSON; 503 storage is unreachable.
 */

/**
 * Counting a very large audience stops after this long and answers with what
 * it counted so far (`complete: false`), well inside the 230 s HTTP limit.
 */
export const previewTimeBudgetMs = 25_000;

export async function audiencePreview(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  // The same body as a send, so the same limit.
  const read = await readJsonBody(request, services.settings.notifyMaxBodyBytes);
  if (!read.ok) return { status: read.refusal.status, jsonBody: read.refusal.body };
  const parsed = parseNotificationRequest(read.text, services.settings, { queued: true });
  if (!parsed.ok) return { status: 400, jsonBody: { errors: parsed.errors } };
  const { audience } = parsed.value;
  try {
    if (audience !== undefined) {
      const resolved = await resolveAudience(audience, { listTeams: () => services.store.listTeams(), defaultTenantId: services.settings.microsoftAppTenantId });
      if (!resolved.ok) return { status: 400, jsonBody: { errors: resolved.errors } };
      const preview = await previewAudienceSources(resolved.value, services.queued.deps.reach.readers, { clock: realClock, timeBudgetMs: previewTimeBudgetMs });
      return { status: 200, headers: { 'Cache-Control': 'no-store' }, jsonBody: preview };
    }
    const preview = await previewAudience(services.store, parsed.value.filter, {
      clock: realClock,
      timeBudgetMs: previewTimeBudgetMs,
    });
    return { status: 200, headers: { 'Cache-Control': 'no-store' }, jsonBody: preview };
  } catch (error) {
    if (error instanceof GraphPermissionError) return { status: 403, jsonBody: { error: 'GraphPermissionMissing', message: error.message } };
    if (error instanceof GraphUnavailableError) {
      context.error(`audiencePreview: ${error.message}`);
      return { status: 503, jsonBody: { error: 'GraphUnavailable', message: `Microsoft Graph is unavailable; retry later. ${error.message}` } };
    }
    if (!(error instanceof TableUnavailableError)) throw error;
    context.error(`audiencePreview: ${error.message}`);
    return { status: 503, jsonBody: { error: 'StorageUnavailable', message: `Storage is unavailable; retry later. ${error.message}` } };
  }
}

app.http('audiencePreview', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'notifications/preview',
  handler: audiencePreview,
});
