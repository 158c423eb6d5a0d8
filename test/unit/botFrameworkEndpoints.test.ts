import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { readBotFrameworkEndpoints } from '../../shared/botFrameworkEndpoints';

describe('readBotFrameworkEndpoints', () => {
  it('gives the public cloud\'s endpoints when none is set, as botbuilder would', () => {
    assert.deepEqual(readBotFrameworkEndpoints({}), {
      ChannelService: '',
      ValidateAuthority: true,
      ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
      ToBotFromChannelOpenIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
      ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
      OAuthUrl: 'https://api.botframework.com',
      CallerId: 'urn:botframework:azure',
    });
  });

  it('keeps the one endpoint set and fills the rest with the public cloud\'s values, where botbuilder would leave them empty', () => {
    const endpoints = readBotFrameworkEndpoints({ ToBotFromChannelOpenIdMetadataUrl: 'https://keys.example.com/openid' });
    assert.equal(endpoints.ToBotFromChannelOpenIdMetadataUrl, 'https://keys.example.com/openid');
    assert.equal(endpoints.ToBotFromChannelTokenIssuer, 'https://api.botframework.com');
    assert.equal(endpoints.ToChannelFromBotLoginUrl, 'https://login.microsoftonline.com/botframework.com');
  });

  it('gives the US Government cloud\'s endpoints for its ChannelService, completing a partial set from them', () => {
    const endpoints = readBotFrameworkEndpoints({ ChannelService: 'https://botframework.azure.us', OAuthUrl: 'https://token.example.us' });
    assert.equal(endpoints.ToBotFromChannelTokenIssuer, 'https://api.botframework.us');
    assert.equal(endpoints.ToBotFromChannelOpenIdMetadataUrl, 'https://login.botframework.azure.us/v1/.well-known/openidconfiguration');
    assert.equal(endpoints.CallerId, 'urn:botframework:azureusgov');
    assert.equal(endpoints.OAuthUrl, 'https://token.example.us');
  });

  it('requires every endpoint for another ChannelService, naming the missing ones', () => {
    assert.throws(
      () => readBotFrameworkEndpoints({ ChannelService: 'https://botframework.example.cloud', OAuthUrl: 'https://token.example.cloud' }),
      (error: Error) =>
        error.name === 'SettingsError' &&
        /ToChannelFromBotLoginUrl, ToChannelFromBotOAuthScope, ToBotFromChannelTokenIssuer, ToBotFromChannelOpenIdMetadataUrl, ToBotFromEmulatorOpenIdMetadataUrl are required when ChannelService is/.test(error.message) &&
        !/OAuthUrl,|CallerId/.test(error.message),
    );
  });

  it('accepts another ChannelService with every endpoint given; CallerId may stay empty', () => {
    const custom = {
      ChannelService: 'https://botframework.example.cloud',
      ToChannelFromBotLoginUrl: 'https://login.example.cloud/tenant',
      ToChannelFromBotOAuthScope: 'https://api.example.cloud',
      ToBotFromChannelTokenIssuer: 'https://api.example.cloud',
      ToBotFromChannelOpenIdMetadataUrl: 'https://login.example.cloud/openid',
      ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.example.cloud/emulator/openid',
      OAuthUrl: 'https://token.example.cloud',
    };
    assert.deepEqual(readBotFrameworkEndpoints(custom), { ...custom, ValidateAuthority: true, CallerId: '' });
  });

  it('reads ValidateAuthority as true or false in any case and refuses anything else', () => {
    assert.equal(readBotFrameworkEndpoints({ ValidateAuthority: 'FALSE' }).ValidateAuthority, false);
    assert.equal(readBotFrameworkEndpoints({ ValidateAuthority: 'true' }).ValidateAuthority, true);
    assert.throws(() => readBotFrameworkEndpoints({ ValidateAuthority: 'no' }), /ValidateAuthority must be true or false/);
  });

  it('refuses an OpenID metadata URL that is not https, except on this machine', () => {
    assert.throws(
      () => readBotFrameworkEndpoints({ ToBotFromChannelOpenIdMetadataUrl: 'http://keys.example.com/openid' }),
      /ToBotFromChannelOpenIdMetadataUrl must be an https URL/,
    );
    assert.throws(() => readBotFrameworkEndpoints({ OAuthUrl: 'token-service' }), /OAuthUrl must be an absolute URL/);
    assert.equal(
      readBotFrameworkEndpoints({ ToBotFromChannelOpenIdMetadataUrl: 'http://127.0.0.1:4000/openid' }).ToBotFromChannelOpenIdMetadataUrl,
      'http://127.0.0.1:4000/openid',
    );
  });
});
