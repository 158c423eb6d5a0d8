import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../shared/settings';

const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('the reach settings', () => {
  it('default to the public Graph, no installation for people, and a catalog id looked up', () => {
    const settings = loadSettings(minimal);
    assert.equal(settings.microsoftGraphUrl, 'https://graph.microsoft.com');
    assert.equal(settings.installForUsers, false);
    assert.equal(settings.teamsAppCatalogId, '');
  });

  it('take a sovereign cloud\'s Graph or a local fake, without a trailing slash', () => {
    assert.equal(loadSettings({ ...minimal, MICROSOFT_GRAPH_URL: 'https://microsoftgraph.chinacloudapi.cn/' }).microsoftGraphUrl, 'https://microsoftgraph.chinacloudapi.cn');
    assert.equal(loadSettings({ ...minimal, MICROSOFT_GRAPH_URL: 'http://127.0.0.1:4100' }).microsoftGraphUrl, 'http://127.0.0.1:4100');
  });

  it('read NOTIFY_INSTALL_FOR_USERS as true or false, and keep TEAMS_APP_CATALOG_ID as given', () => {
    const settings = loadSettings({ ...minimal, NOTIFY_INSTALL_FOR_USERS: 'true', TEAMS_APP_CATALOG_ID: ' 3f1c-catalog ' });
    assert.equal(settings.installForUsers, true);
    assert.equal(settings.teamsAppCatalogId, '3f1c-catalog');
  });

  for (const [what, env, pattern] of [
    ['a Graph URL that is not a URL', { MICROSOFT_GRAPH_URL: 'graph.microsoft.com' }, /MICROSOFT_GRAPH_URL must be an absolute URL/],
    ['a Graph URL of another scheme', { MICROSOFT_GRAPH_URL: 'ftp://graph.example' }, /MICROSOFT_GRAPH_URL must be an http\(s\) URL/],
    ['a Graph URL with the API version', { MICROSOFT_GRAPH_URL: 'https://graph.microsoft.com/v1.0' }, /MICROSOFT_GRAPH_URL must not name the API version/],
    ['plain http to another machine while tokens are sent', { MICROSOFT_GRAPH_URL: 'http://graph.example', MicrosoftAppId: 'app' }, /MICROSOFT_GRAPH_URL must be https when MicrosoftAppId is set/],
    ['an installation flag that is not true or false', { NOTIFY_INSTALL_FOR_USERS: 'yes' }, /NOTIFY_INSTALL_FOR_USERS must be true or false/],
    ['installation without an app id or a catalog id', { NOTIFY_INSTALL_FOR_USERS: 'true' }, /TEAMS_APP_CATALOG_ID is required when NOTIFY_INSTALL_FOR_USERS is true and MicrosoftAppId is empty/],
  ] as const) {
    it(`refuses ${what}, naming the setting`, () => {
      assert.throws(() => loadSettings({ ...minimal, ...env }), (error: unknown) => error instanceof SettingsError && pattern.test(error.message));
    });
  }
});
