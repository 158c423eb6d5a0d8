import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/services';
import { TableUnavailableError } from '../shared/storage/tableClient';

/**
 * GET /api/teams: the teams the bot is in, as captured from their channels
 * (one entry a team, by tenant then name), for the console's "Who receives
 * it" picker and for anyone choosing a `{team, deliverTo}` audience source.
 * A team's id is what the source takes; the name is the latest Teams
 * announced (empty when it never said). One listing of the stored channel
 * references per call. 503 when storage is unreachable.
 */
export async function listTeams(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const teams = await getServices().store.listTeams();
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      jsonBody: { teams: teams.map(({ tenantId, teamId, teamName }) => ({ tenantId, teamId, teamName })) },
    };
  } catch (error) {
    if (!(error instanceof TableUnavailableError)) throw error;
    context.error(`teams: ${error.message}`);
    return { status: 503, jsonBody: { error: 'StorageUnavailable', message: `Storage is unavailable; retry later. ${error.message}` } };
  }
}

app.http('teams', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'teams',
  handler: listTeams,
});
