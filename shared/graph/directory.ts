/**
 * The directory as the planner sees it: people by email or UPN, the user members of an Entra
 * group, and installing the app for people who never opened it. Implemented over Microsoft Graph
 * by graphDirectory.ts. Whole-call faults throw GraphPermissionError or GraphUnavailableError
 * (graphErrors.ts); per-person outcomes are in the results.
 */

export interface DirectoryUser {
  /** The Entra object id. */
  readonly id: string;
  readonly userType: 'Member' | 'Guest';
  readonly displayName?: string;
}

export type UserLookup =
  | { readonly query: string; readonly outcome: 'found'; readonly user: DirectoryUser }
  | { readonly query: string; readonly outcome: 'notFound' };

export type GroupMembersPage =
  | { readonly outcome: 'found'; readonly users: readonly DirectoryUser[]; readonly nextLink?: string }
  | { readonly outcome: 'notFound' };

export type InstallResult =
  | { readonly userId: string; readonly outcome: 'installed'; readonly chatId: string } // 201 or 409 (already)
  | { readonly userId: string; readonly outcome: 'notFound' } // no such user
  | { readonly userId: string; readonly outcome: 'failed'; readonly error: string };

export interface Directory {
  /** By email or UPN, 20 per $batch; order of answers = order of queries. */
  findUsers(tenantId: string, emailsOrUpns: readonly string[]): Promise<readonly UserLookup[]>;
  /** One page of the group's transitive *user* members ($top=999), from the start or a nextLink. */
  groupMembers(tenantId: string, groupId: string, nextLink?: string): Promise<GroupMembersPage>;
  /** Installs the app for each user (409 = already installed), then reads each personal chat id; batched. */
  installForUsers(tenantId: string, userIds: readonly string[]): Promise<readonly InstallResult[]>;
}
