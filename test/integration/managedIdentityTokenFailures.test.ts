import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { classifyDeliveryError, CredentialsError } from '../../shared/delivery/deliveryError';
import { identityNotAssigned, startManagedIdentityEndpoint, type ManagedIdentityEndpoint, type Refusal } from '../support/managedIdentityEndpoint';

/**
 * What the delivery engine makes of the errors @azure/identity's
 * ManagedIdentityCredential (the bot's, for MicrosoftAppType UserAssignedMSI)
 * throws when App Service's identity endpoint refuses or fails: a refusal
 * stops the run as a credentials problem, an outage is retried.
 */
describe('managed identity token failures, as the delivery engine classifies them', () => {
  let endpoint: ManagedIdentityEndpoint;
  const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };

  before(async () => {
    endpoint = await startManagedIdentityEndpoint();
    // @azure/identity (MSAL) finds App Service's endpoint in the environment once per process.
    Object.assign(process.env, endpoint.env);
  });

  after(async () => {
    await endpoint?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function tokenError(refusal: Refusal): Promise<{ error: unknown; requests: number }> {
    endpoint.refuseWith(refusal);
    const before = endpoint.requests.length;
    const credential = new ManagedIdentityCredential({ clientId: '5e7f9a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b' });
    const error = await credential.getToken('https://api.botframework.com/.default').then(
      () => assert.fail('a token was issued'),
      (thrown: unknown) => thrown,
    );
    return { error, requests: endpoint.requests.length - before };
  }

  test('an identity that is not assigned to the app (400) is the bot credentials refused, asked once', async () => {
    const { error, requests } = await tokenError(identityNotAssigned);
    const failure = classifyDeliveryError(new CredentialsError('Could not get a token for the bot', error));
    assert.equal(failure.kind, 'credentials');
    assert.match(failure.message, /No User Assigned or Delegated Managed Identity found/);
    assert.equal(requests, 1);
  });

  test('an identity endpoint that fails (500) is retryable: the token could not be had, not refused', async () => {
    const { error, requests } = await tokenError({ status: 500, body: { error: 'internal', message: 'the identity endpoint failed' } });
    const failure = classifyDeliveryError(new CredentialsError('Could not get a token for the bot', error));
    assert.deepEqual([failure.kind, failure.code], ['retryable', 'TokenUnavailable']);
    assert.ok(requests > 1, `@azure/identity retried the endpoint itself (${requests} requests)`);
  });
});
