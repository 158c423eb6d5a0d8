import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRefusalOf } from '../../shared/audience/createRefusal';

/** What botbuilder throws for an answer: a RestError with the status, the body's error code and the body text. */
function answer(statusCode: number, body: unknown, code?: string) {
  return Object.assign(new Error(`answer ${statusCode}`), { statusCode, ...(code === undefined ? {} : { code }), response: { bodyAsText: JSON.stringify(body) } });
}

describe('why Teams would not open a personal chat', () => {
  test("Learn's 403 for a user who blocked the bot (subCode MessageWritesBlocked inside the message) is blocked", () => {
    const body = { errorCode: 209, message: '{\r\n  "subCode": "MessageWritesBlocked",\r\n  "details": "Thread is blocked from message writes.",\r\n  "errorCode": null,\r\n  "errorSubCode": null\r\n}' };
    assert.equal(createRefusalOf(answer(403, body))?.reason, 'blocked');
  });

  test('a 403 whose error code is MessageWritesBlocked is blocked', () => {
    assert.equal(createRefusalOf(answer(403, { error: { code: 'MessageWritesBlocked' } }, 'MessageWritesBlocked'))?.reason, 'blocked');
  });

  test('403 BotNotInConversationRoster (no app, no shared team) and 403 ForbiddenOperationException are notInstalled', () => {
    assert.equal(createRefusalOf(answer(403, { error: { code: 'BotNotInConversationRoster' } }, 'BotNotInConversationRoster'))?.reason, 'notInstalled');
    assert.equal(createRefusalOf(answer(403, { error: { code: 'ForbiddenOperationException' } }, 'ForbiddenOperationException'))?.reason, 'notInstalled');
  });

  test('a 404 is notFound', () => {
    assert.deepEqual(createRefusalOf(answer(404, { error: { code: 'NotFound', message: 'User not found' } }, 'NotFound')), {
      reason: 'notFound',
      status: 404,
      code: 'NotFound',
      message: 'answer 404',
    });
  });

  test('throttling, another 403 and a network error are not refusals: they are handled like a failed send', () => {
    assert.equal(createRefusalOf(answer(429, { error: { code: 'Throttled' } }, 'Throttled')), undefined);
    assert.equal(createRefusalOf(answer(403, { error: { code: 'BotDisabledByAdmin' } }, 'BotDisabledByAdmin')), undefined);
    assert.equal(createRefusalOf(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), undefined);
  });
});
