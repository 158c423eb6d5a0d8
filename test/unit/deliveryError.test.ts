import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectorInternalsChangedError,
  CredentialsError,
  SendTimeoutError,
  classifyDeliveryError,
} from '../../shared/deliveryError';
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

  test('a failure to get a token is a credentials failure too', () => {
    assert.equal(classifyDeliveryError(new CredentialsError('no token', new Error('AADSTS7000215'))).kind, 'credentials');
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
