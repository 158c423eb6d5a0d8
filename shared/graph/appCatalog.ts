import { GraphAppNotInCatalogError, GraphRequestError, GraphUnavailableError } from './graphErrors';
import { describe, type GraphClient } from './graphClient';
import { filterParameter, odataString } from './odata';

export interface AppCatalogSettings {
  /** TEAMS_APP_CATALOG_ID: used for every tenant when set. */
  readonly teamsAppCatalogId: string;
  /** The app's manifest id, which is the bot's MicrosoftAppId (appPackage/manifest.json: "id": "${{MicrosoftAppId}}"). */
  readonly manifestId: string;
}

interface CatalogApp {
  readonly id: string;
  readonly distributionMethod?: string;
}

/**
 * The app's id in a tenant's Teams app catalog, which installing it for a person names. An app the
 * organisation uploaded gets an id of the catalog's making (its manifest id is the `externalId`), one
 * per tenant; a store app's id is its manifest id. So, without TEAMS_APP_CATALOG_ID, it is looked up
 * once per tenant (`GET /appCatalogs/teamsApps?$filter=externalId eq '<manifest id>'`, which needs
 * AppCatalog.Read.All) and kept for the life of the process; a failed lookup is tried again next time.
 */
export class AppCatalog {
  private readonly ids = new Map<string, Promise<string>>();

  constructor(
    private readonly client: GraphClient,
    private readonly settings: AppCatalogSettings,
  ) {}

  idFor(tenantId: string): Promise<string> {
    if (this.settings.teamsAppCatalogId !== '') return Promise.resolve(this.settings.teamsAppCatalogId);
    let id = this.ids.get(tenantId);
    if (id === undefined) {
      id = this.lookUp(tenantId);
      this.ids.set(tenantId, id);
      id.catch(() => this.ids.delete(tenantId));
    }
    return id;
  }

  private async lookUp(tenantId: string): Promise<string> {
    const { manifestId } = this.settings;
    if (manifestId === '') throw new GraphRequestError('The app has no manifest id to look up in the catalog (MicrosoftAppId is empty): set TEAMS_APP_CATALOG_ID', 0);
    const answer = await this.client.send(tenantId, {
      method: 'GET',
      url: `/appCatalogs/teamsApps?${filterParameter(`externalId eq ${odataString(manifestId)}`)}&$select=id,externalId,distributionMethod`,
    });
    if (answer.status !== 200) {
      if (answer.status >= 500 || answer.status === 429) throw new GraphUnavailableError(`Graph did not answer the app catalog lookup: ${describe(answer)}`, answer.status);
      throw new GraphRequestError(`Graph refused the app catalog lookup: ${describe(answer)}`, answer.status);
    }
    const apps = ((answer.body as { value?: unknown } | undefined)?.value ?? []) as CatalogApp[];
    // The organisation's own upload wins over a store listing of the same manifest id.
    const app = apps.find((candidate) => candidate.distributionMethod === 'organization') ?? apps[0];
    if (typeof app?.id !== 'string') throw new GraphAppNotInCatalogError(tenantId, manifestId);
    return app.id;
  }
}
