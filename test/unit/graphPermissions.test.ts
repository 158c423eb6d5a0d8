import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphPermissionError } from '../../shared/graph/graphErrors';
import { isPermissionRefusal, permissionFor } from '../../shared/graph/graphPermissions';

const denied = { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } };

describe('Graph permission refusals', () => {
  it('name the permission each request needs: users, group members, installations, the catalog', () => {
    assert.equal(permissionFor("/users?$filter=userPrincipalName eq 'a@contoso.com'"), 'User.Read.All');
    assert.equal(permissionFor('/users/a@contoso.com?$select=id'), 'User.Read.All');
    assert.equal(permissionFor('/groups/g-1/transitiveMembers/microsoft.graph.user?$top=999'), 'GroupMember.Read.All');
    assert.equal(permissionFor('https://graph.microsoft.com/v1.0/groups/g-1/transitiveMembers/microsoft.graph.user?$skiptoken=x'), 'GroupMember.Read.All');
    assert.equal(permissionFor('/users/u-1/teamwork/installedApps'), 'TeamsAppInstallation.ReadWriteSelfForUser.All');
    assert.equal(permissionFor('users/u-1/teamwork/installedApps/inst/chat'), 'TeamsAppInstallation.ReadWriteSelfForUser.All');
    assert.equal(permissionFor("/appCatalogs/teamsApps?$filter=externalId eq 'x'"), 'AppCatalog.Read.All');
  });

  it('are told from other 403s: Authorization_RequestDenied and Teams\' "Missing role permissions" are, a policy block is not', () => {
    assert.equal(isPermissionRefusal(403, denied), true);
    assert.equal(isPermissionRefusal(403, { error: { code: 'Forbidden', message: "Missing role permissions on the request. API requires one of 'TeamsAppInstallation.ReadWriteSelfForUser.All'." } }), true);
    assert.equal(isPermissionRefusal(403, { error: { code: 'Forbidden', message: 'The app is blocked by the tenant app permission policy.' } }), false);
    assert.equal(isPermissionRefusal(404, denied), false);
  });

  it('say which permission to grant, with admin consent, in which tenant', () => {
    const error = new GraphPermissionError('GroupMember.Read.All', 'tenant-1', denied.error.message);
    assert.equal(error.name, 'GraphPermissionError');
    assert.match(error.message, /tenant tenant-1.*application permission GroupMember\.Read\.All, with admin consent/);
  });
});
