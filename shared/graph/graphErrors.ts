/**
 * What can go wrong with a whole Graph call, by name. Every one extends GraphError, so a caller that only
 * needs "Graph failed" catches that; per-person outcomes (not found, one failed installation) are results,
 * never errors (see directory.ts).
 */

/** The application permissions the directory needs, each named as the admin consents to it. */
export type GraphPermission =
  | 'User.Read.All'
  | 'GroupMember.Read.All'
  | 'TeamsAppInstallation.ReadWriteSelfForUser.All'
  /** Only to find the app's catalog id from its manifest id when TEAMS_APP_CATALOG_ID is empty. */
  | 'AppCatalog.Read.All';

export abstract class GraphError extends Error {}

/** Graph refused a call for want of an application permission (403 Authorization_RequestDenied). */
export class GraphPermissionError extends GraphError {
  override readonly name = 'GraphPermissionError';

  constructor(
    readonly permission: GraphPermission,
    readonly tenantId: string,
    readonly graphMessage?: string,
  ) {
    super(`Microsoft Graph refused the request in tenant ${tenantId}: the app needs the application permission ${permission}, with admin consent.`);
  }
}

/** Graph could not be reached or kept failing: 5xx, throttling past the retries, network errors, timeouts. */
export class GraphUnavailableError extends GraphError {
  override readonly name = 'GraphUnavailableError';

  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No token could be had for the tenant, or Graph did not accept it (401): the app's credentials, not Graph, are wrong. */
export class GraphAuthenticationError extends GraphError {
  override readonly name = 'GraphAuthenticationError';

  constructor(
    message: string,
    readonly tenantId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Graph answered a request in a way the client did not expect (an unexpected 4xx, a body it cannot read): a bug, here or in the request. */
export class GraphRequestError extends GraphError {
  override readonly name = 'GraphRequestError';

  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The app is not in the tenant's app catalog, so it cannot be installed for anyone there. */
export class GraphAppNotInCatalogError extends GraphError {
  override readonly name = 'GraphAppNotInCatalogError';

  constructor(
    readonly tenantId: string,
    readonly manifestId: string,
  ) {
    super(
      `The Teams app with manifest id ${manifestId} is not in the app catalog of tenant ${tenantId}: ` +
        'upload it to the organisation\'s catalog (or set TEAMS_APP_CATALOG_ID) before installing it for people.',
    );
  }
}
