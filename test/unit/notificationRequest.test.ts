import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  activityBytes,
  adaptiveCardContentType,
  parseNotificationRequest,
  requestFingerprint,
  validateTarget,
  type NotificationRequest,
} from '../../shared/notifications/notificationRequest';

const limits = { maxMessageBytes: 81920 };
const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Hello' }] };

function parse(body: unknown, maxMessageBytes = limits.maxMessageBytes) {
  return parseNotificationRequest(typeof body === 'string' ? body : JSON.stringify(body), { maxMessageBytes });
}

function accepted(body: unknown): NotificationRequest {
  const result = parse(body);
  assert.ok(result.ok, `expected the body to be accepted, got ${JSON.stringify(result)}`);
  return result.value;
}

function errorsOf(body: unknown, maxMessageBytes?: number): readonly string[] {
  const result = parse(body, maxMessageBytes);
  assert.ok(!result.ok, 'expected the body to be refused');
  assert.ok(result.errors.length > 0, 'a refusal always says why');
  return result.errors;
}

function assertMentions(errors: readonly string[], ...fragments: string[]): void {
  for (const fragment of fragments) {
    assert.ok(
      errors.some((error) => error.includes(fragment)),
      `expected an error mentioning ${JSON.stringify(fragment)}, got ${JSON.stringify(errors)}`,
    );
  }
}

describe('parseNotificationRequest: valid bodies', () => {
  it('turns text into a message activity with no id and no filter', () => {
    const request = accepted({ text: 'Deploy finished' });
    assert.deepEqual(request, { activity: { type: 'message', text: 'Deploy finished' } });
  });

  it('sends a card as an Adaptive Card attachment, beside the text when both are given', () => {
    const request = accepted({ text: 'See the card', card });
    assert.deepEqual(request.activity, {
      type: 'message',
      text: 'See the card',
      attachments: [{ contentType: adaptiveCardContentType, content: card }],
    });
  });

  it('accepts a card alone', () => {
    const request = accepted({ card });
    assert.equal(request.activity.text, undefined);
    assert.equal(request.activity.attachments?.length, 1);
  });

  it('keeps a client-chosen id such as a uuid', () => {
    const request = accepted({ id: '3f2b8c1e-6a7d-4e0b-9c5f-1a2b3c4d5e6f', text: 'hi' });
    assert.equal(request.id, '3f2b8c1e-6a7d-4e0b-9c5f-1a2b3c4d5e6f');
  });

  it('turns every target field into the conversation filter', () => {
    const target = {
      conversationIds: ['a:1', '19:abc@thread.tacv2;messageid=1'],
      userIds: ['29:user', '00000000-0000-0000-0000-0000000000a1'],
      tenantIds: ['tenant-1'],
      channelIds: ['msteams'],
      conversationTypes: ['personal', 'groupChat', 'channel'],
    };
    assert.deepEqual(accepted({ text: 'hi', target }).filter, target);
  });
});

describe('parseNotificationRequest: invalid bodies', () => {
  it('refuses a body that is not JSON', () => {
    assertMentions(errorsOf('{"text": "hi"'), 'not valid JSON');
  });

  it('refuses an empty body and says what to send', () => {
    assertMentions(errorsOf(''), 'empty');
  });

  it('refuses JSON that is not an object', () => {
    for (const body of ['"hi"', '42', 'null', '[{"text":"hi"}]']) assertMentions(errorsOf(body), 'must be a JSON object');
  });

  it('refuses unknown top-level fields, naming each', () => {
    const errors = errorsOf({ text: 'hi', message: 'hi', targets: {} });
    assertMentions(errors, '"message"', '"targets"');
  });

  it('refuses a message with neither text nor card', () => {
    assertMentions(errorsOf({}), 'message is empty');
    assertMentions(errorsOf({ id: 'x', target: { tenantIds: ['t'] } }), 'message is empty');
  });

  it('refuses blank text, even beside a card', () => {
    assertMentions(errorsOf({ text: '   ' }), '"text" must not be blank');
    assertMentions(errorsOf({ text: '', card }), '"text" must not be blank');
  });

  it('refuses text that is not a string', () => {
    assertMentions(errorsOf({ text: 42 }), '"text" must be a string');
    assertMentions(errorsOf({ text: null }), '"text" must be a string');
  });

  it('refuses a card that is not an object', () => {
    for (const bad of ['{"type":"AdaptiveCard"}', [card], 7, null]) assertMentions(errorsOf({ card: bad }), '"card" must be an Adaptive Card JSON object');
  });

  it('refuses a card object that is not an Adaptive Card', () => {
    assertMentions(errorsOf({ card: { body: [] } }), '"type" must be "AdaptiveCard"');
  });

  it('refuses an id that is not a string, is empty, too long or has other characters', () => {
    assertMentions(errorsOf({ id: 12, text: 'hi' }), '"id" must be a string');
    for (const id of ['', 'x'.repeat(129), 'a/b', 'a b', 'é', 'a#b']) assertMentions(errorsOf({ id, text: 'hi' }), '"id" must be 1 to 128');
    assert.ok(parse({ id: 'x'.repeat(128), text: 'hi' }).ok, '128 characters are fine');
  });

  it('lists every problem at once', () => {
    const errors = errorsOf({ id: 5, text: 7, card: 'no', extra: true, target: { tenantIds: [] } });
    assertMentions(errors, '"id"', '"text"', '"card"', '"extra"', '"target.tenantIds"');
    assert.equal(errors.length, 5);
  });
});

describe('validateTarget', () => {
  it('refuses a target that is not an object', () => {
    for (const target of [[], 'tenant-1', 3, null]) assertMentions(errorsOf({ text: 'hi', target }), '"target" must be a JSON object');
  });

  it('refuses an empty target rather than notifying everyone', () => {
    assertMentions(errorsOf({ text: 'hi', target: {} }), 'names no recipients');
  });

  it('refuses unknown target fields, naming them with their path', () => {
    assertMentions(errorsOf({ text: 'hi', target: { tenantIds: ['t'], teamIds: ['x'] } }), '"target.teamIds"');
  });

  it('refuses a field that is not a non-empty array', () => {
    for (const value of [[], 'tenant-1', {}, null]) {
      assertMentions(errorsOf({ text: 'hi', target: { tenantIds: value } }), '"target.tenantIds" must be a non-empty array');
    }
  });

  it('refuses empty, blank or non-string values', () => {
    for (const value of [[''], ['  '], [1], ['ok', null]]) {
      assertMentions(errorsOf({ text: 'hi', target: { userIds: value } }), '"target.userIds" must contain only non-empty strings');
    }
  });

  it('refuses a conversation type other than personal, groupChat or channel', () => {
    const errors = errorsOf({ text: 'hi', target: { conversationTypes: ['personal', 'groupchat'] } });
    assertMentions(errors, '"target.conversationTypes"', '"groupchat"');
  });

  it('reports errors under the name it is given, for the timer setting', () => {
    const result = validateTarget({ tenantIds: 'x' }, 'NOTIFY_TIMER_TARGET');
    assert.ok(!result.ok);
    assertMentions(result.errors, '"NOTIFY_TIMER_TARGET.tenantIds"');
  });
});

describe('message size limit', () => {
  it('counts the serialized activity as UTF-16, two bytes per code unit', () => {
    assert.equal(activityBytes({ text: 'é' }), JSON.stringify({ text: 'é' }).length * 2);
    assert.equal(activityBytes({ text: '😀' }) - activityBytes({ text: '' }), 4, 'an emoji is two UTF-16 code units');
    assert.equal(activityBytes({ text: 'é' }) - activityBytes({ text: '' }), 2, 'é is one code unit even though UTF-8 needs two bytes');
  });

  it('accepts a message exactly at the limit and refuses one byte pair above it', () => {
    const overhead = activityBytes({ type: 'message', text: '' });
    const limit = 1000;
    const atLimit = 'a'.repeat((limit - overhead) / 2);
    assert.ok(parse({ text: atLimit }, limit).ok);
    assertMentions(errorsOf({ text: `${atLimit}a` }, limit), `is ${limit + 2} bytes`, `the limit is ${limit}`);
  });

  it('judges non-ASCII text by its UTF-16 size, not its UTF-8 size', () => {
    const limit = 81920;
    // 30,000 × "日" is 90,000 bytes of UTF-8 but 60,000 of UTF-16: accepted.
    assert.ok(parse({ text: '日'.repeat(30_000) }, limit).ok);
    // 45,000 × "é" is 90,000 bytes in both encodings, over the limit.
    assertMentions(errorsOf({ text: 'é'.repeat(45_000) }, limit), 'the limit is 81920');
    // 41,000 × "a" is 41,000 bytes of UTF-8 but 82,000 of UTF-16: refused, as Teams counts.
    assertMentions(errorsOf({ text: 'a'.repeat(41_000) }, limit), 'the limit is 81920');
  });

  it('counts the card too', () => {
    const bigCard = { ...card, body: [{ type: 'TextBlock', text: 'x'.repeat(41_000) }] };
    assertMentions(errorsOf({ text: 'short', card: bigCard }), 'the limit is 81920');
  });

  it('reports the size beside the other errors', () => {
    const errors = errorsOf({ text: 'a'.repeat(41_000), target: {} });
    assertMentions(errors, 'the limit is', 'names no recipients');
  });
});

describe('requestFingerprint', () => {
  const parse = (body: object): NotificationRequest => {
    const parsed = parseNotificationRequest(JSON.stringify(body), limits);
    assert.ok(parsed.ok);
    return parsed.value;
  };

  it('is the same for the same message and target, whatever the order of the JSON keys', () => {
    const a = parse({ id: 'n1', text: 'hi', card, target: { tenantIds: ['t1'], channelIds: ['msteams'] } });
    const b = parse({ target: { channelIds: ['msteams'], tenantIds: ['t1'] }, card: { body: card.body, version: '1.5', type: 'AdaptiveCard' }, text: 'hi', id: 'n1' });
    assert.equal(requestFingerprint(a), requestFingerprint(b));
  });

  it('differs when the text, the card or the target differs, but not with the id', () => {
    const base = requestFingerprint(parse({ id: 'n1', text: 'hello all' }));
    assert.notEqual(requestFingerprint(parse({ id: 'n1', text: 'x' })), base);
    assert.notEqual(requestFingerprint(parse({ id: 'n1', text: 'hello all', card })), base);
    assert.notEqual(requestFingerprint(parse({ id: 'n1', text: 'hello all', target: { tenantIds: ['t1'] } })), base);
    assert.equal(requestFingerprint(parse({ id: 'n2', text: 'hello all' })), base);
  });
});
