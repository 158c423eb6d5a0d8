import type { GraphPermission } from './graphErrors';

/**
 * The application permission a Graph request needs, from its path (relative to /v1.0 or absolute):
 * the least one that serves it, which is what a refusal (403) asks the admin to consent to.
 */
export function permissionFor(url: string): GraphPermission {
  const path = pathOf(url);
  if (/^\/users\/[^/]+\/teamwork\/installedApps(\/|$)/i.test(path)) return 'TeamsAppInstallation.ReadWriteSelfForUser.All';
  if (/^\/groups(\/|$)/i.test(path)) return 'GroupMember.Read.All';
  if (/^\/appCatalogs(\/|$)/i.test(path)) return 'AppCatalog.Read.All';
  return 'User.Read.All';
}

/** The path after the API version, without the query: `/users/x` for `/users/x?$select=id` or `https://graph.microsoft.com/v1.0/users/x`. */
function pathOf(url: string): string {
  const withoutQuery = url.split('?')[0] ?? '';
  const versioned = /\/v1\.0(\/.*)$/i.exec(withoutQuery);
  if (versioned?.[1] !== undefined) return versioned[1];
  return withoutQuery.startsWith('/') ? withoutQuery : `/${withoutQuery}`;
}

/**
 * Graph's refusal for want of a permission: 403 with Authorization_RequestDenied (directory APIs),
 * or Teams' "Missing role permissions" (Forbidden) on its own APIs. Other 403s (an app blocked by
 * the tenant's app policy for one person) are answers about that request, not about the app.
 */
export function isPermissionRefusal(status: number, body: unknown): boolean {
  if (status !== 403) return false;
  const { code, message } = graphErrorOf(body);
  return code === 'Authorization_RequestDenied' || /missing role permissions/i.test(message ?? '');
}

/** Graph's error shape, `{ error: { code, message } }`, read without trusting it. */
export function graphErrorOf(body: unknown): { readonly code?: string; readonly message?: string } {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return {};
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { ...(typeof code === 'string' ? { code } : {}), ...(typeof message === 'string' ? { message } : {}) };
}
