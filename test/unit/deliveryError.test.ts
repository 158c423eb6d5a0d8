import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectorInternalsChangedError,
  CredentialsError,
  SendTimeoutError,
  classifyDeliveryError,
} from '../../shared/delivery/deliveryError';
import { ClientAuthError, ClientAuthErrorCodes, ServerError } from '@azure/msal-node';
import { channelError, networkError } from '../support/channelErrors';

describe('classifyDeliveryError', () => {
  test('a 404 without the ConversationNotFound code is reported but never prunes (it may come from a proxy)', () => {
    assert.equal(classifyDeliveryError(channelError(404, 'NotFound')).kind, 'permanent');
  });

  test('404 ConversationNotFound means the conversation is gone', () => {
    assert.equal(classifyDeliveryError(channelError(404, 'ConversationNotFound')).kind, 'gone');
  });

  test('403 codes that mean the bot is out of the conversation for good are gone', () => {
    for (const code of ['BotNotInConversationRoster', 'ConversationBlockedByUser', 'BotDisabledByAdmin']) {
      const failure = classifyDeliveryError(channelError(403, code));
      assert.deepEqual([failure.kind, failure.status, failure.code], ['gone', 403, code]);
    }
  });

  test('403 MessageWritesBlocked is reported but the reference is kept', () => {
    assert.equal(classifyDeliveryError(channelError(403, 'MessageWritesBlocked')).kind, 'permanent');
  });

  test('413 MessageSizeTooBig is permanent, not retried', () => {
    const failure = classifyDeliveryError(channelError(413, 'MessageSizeTooBig'));
    assert.deepEqual([failure.kind, failure.code], ['permanent', 'MessageSizeTooBig']);
  });

  test('401 means the bot credentials were refused', () => {
    const failure = classifyDeliveryError(channelError(401));
    assert.deepEqual([failure.kind, failure.status, failure.code], ['credentials', 401, 'Unauthorized']);
  });

  test('a token the identity provider refuses is a credentials failure, which stops the run', () => {
    const refusals: unknown[] = [
      // What MSAL throws for a wrong secret (AADSTS7000215) and an app not allowed this grant.
      new ServerError('invalid_client', 'AADSTS7000215: Invalid client secret provided.', '', '7000215', 401),
      new ServerError('unauthorized_client', 'AADSTS700016: Application not found in the directory.', '', '700016', 400),
      new ServerError('invalid_client', 'AADSTS7000215'),
      Object.assign(new Error('token endpoint answered 400'), { statusCode: 400 }),
      // Nothing to tell it apart: taken as credentials, as before.
      new Error('AADSTS7000215: Invalid client secret provided.'),
    ];
    for (const cause of refusals) {
      const failure = classifyDeliveryError(new CredentialsError('Could not get a token for the bot', cause));
      assert.deepEqual([failure.kind, failure.code], ['credentials', 'CredentialsUnavailable'], String(cause));
    }
  });

  test('a token endpoint that cannot be reached, fails or throttles is retryable, not a credentials failure', () => {
    const transient: unknown[] = [
      // What MSAL throws when the token request never got an answer.
      new ClientAuthError(ClientAuthErrorCodes.networkError),
      new ServerError('temporarily_unavailable', 'AADSTS50196', '', '50196', 503),
      new ServerError('', 'server error', '', undefined, 500),
      new ServerError('', 'throttled', '', undefined, 429),
      networkError('ECONNREFUSED'),
      new Error('fetch failed', { cause: networkError('ENOTFOUND') }),
      new SendTimeoutError(100),
    ];
    for (const cause of transient) {
      const failure = classifyDeliveryError(new CredentialsError('Could not get a token for the bot', cause));
      assert.deepEqual([failure.kind, failure.code], ['retryable', 'TokenUnavailable'], String(cause));
      assert.match(failure.message, /Could not get a token/);
    }
  });

  test('429, 412 and 5xx are retryable, with the Retry-After they carry', () => {
    for (const status of [412, 429, 500, 502, 503, 504]) {
      assert.equal(classifyDeliveryError(channelError(status)).kind, 'retryable', String(status));
    }
    const throttled = classifyDeliveryError(channelError(429, 'Throttled', '2'));
    assert.equal(throttled.kind === 'retryable' ? throttled.retryAfterMs : 'not retryable', 2_000);
  });

  test('network errors and timeouts are retryable', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED']) {
      const failure = classifyDeliveryError(networkError(code));
      assert.deepEqual([failure.kind, failure.code, failure.status], ['retryable', 'NetworkError', undefined]);
    }
    assert.deepEqual(
      [classifyDeliveryError(new SendTimeoutError(100)).kind, classifyDeliveryError(new SendTimeoutError(100)).code],
      ['retryable', 'Timeout'],
    );
  });

  test('other statuses are reported with their status and code', () => {
    const failure = classifyDeliveryError(channelError(400, 'BadArgument'));
    assert.deepEqual([failure.kind, failure.status, failure.code], ['permanent', 400, 'BadArgument']);
    assert.equal(classifyDeliveryError(channelError(409)).code, 'Http409');
  });

  test('a botbuilder whose internals changed stops the run', () => {
    assert.equal(classifyDeliveryError(new ConnectorInternalsChangedError('no pipeline')).kind, 'fatal');
  });

  test('anything unknown is reported, not retried', () => {
    assert.equal(classifyDeliveryError(new TypeError('boom')).kind, 'permanent');
    assert.equal(classifyDeliveryError('a string').kind, 'permanent');
  });
});
