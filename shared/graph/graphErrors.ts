/** The application permissions the directory needs, each named as the admin consents to it. */
export type GraphPermission = 'User.Read.All' | 'GroupMember.Read.All' | 'TeamsAppInstallation.ReadWriteSelfForUser.All';

/** Graph refused a call for want of an application permission (403 Authorization_RequestDenied). */
export class GraphPermissionError extends Error {
  override readonly name = 'GraphPermissionError';

  constructor(
    readonly permission: GraphPermission,
    readonly tenantId: string,
    readonly graphMessage?: string,
  ) {
    super(`Microsoft Graph refused the request in tenant ${tenantId}: the app needs the application permission ${permission}, with admin consent.`);
  }
}

/** Graph could not be reached or kept failing (5xx, throttling past the retries, network errors). */
export class GraphUnavailableError extends Error {
  override readonly name = 'GraphUnavailableError';

  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
