import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { conversationTypes, notificationIdPattern, parseNotificationRequest } from '../../shared/notifications/notificationRequest';

/** A few hundred generated cases per property: well under a second each, a new sample on every run. */
const runs = { numRuns: 300 };

const targetFields = ['conversationIds', 'userIds', 'tenantIds', 'channelIds', 'conversationTypes'];

/** Any JSON value, and values close to what each field accepts, so both sides of every check get exercised. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
const nearString = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '  ', 'Hello', 'release-1', 'a b', 'x'.repeat(129)), anyJson);
const nearCard = fc.oneof(
  fc.record({ type: fc.constantFrom('AdaptiveCard', 'Card', ''), body: fc.array(anyJson, { maxLength: 3 }) }, { requiredKeys: [] }),
  anyJson,
);
const nearList = fc.oneof(
  fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...conversationTypes), fc.constant('  ')), { maxLength: 4 }),
  anyJson,
);
const nearTarget = fc.oneof(
  fc.record(Object.fromEntries([...targetFields, 'teamIds'].map((field) => [field, nearList])), { requiredKeys: [] }),
  anyJson,
);
const nearBody = fc
  .tuple(
    fc.record({ id: nearString, text: nearString, card: nearCard, target: nearTarget }, { requiredKeys: [] }),
    fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 2 }),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

/** Bodies as text: valid-looking objects, any JSON, and any string at all. */
const anyBodyText = fc.oneof(nearBody.map((body) => JSON.stringify(body)), anyJson.map((json) => JSON.stringify(json)), fc.string({ maxLength: 200 }));

/** Small limits too, so the size check refuses some otherwise valid bodies. */
const anyLimit = fc.oneof(fc.constant(81920), fc.integer({ min: 1, max: 400 }));

describe('notify request parsing, property-based', () => {
  test('never throws, whatever the body, and refuses only with at least one reason', () => {
    fc.assert(
      fc.property(anyBodyText, anyLimit, (bodyText, maxMessageBytes) => {
        const result = parseNotificationRequest(bodyText, { maxMessageBytes });
        if (result.ok) {
          assert.equal(result.value.activity.type, 'message');
          if (result.value.id !== undefined) assert.match(result.value.id, notificationIdPattern);
        } else {
          assert.ok(result.errors.length > 0);
          for (const error of result.errors) assert.ok(typeof error === 'string' && error.length > 0);
        }
      }),
      runs,
    );
  });

  test('every refusal of a JSON object names the field it is about', () => {
    fc.assert(
      fc.property(nearBody, anyLimit, (body, maxMessageBytes) => {
        const result = parseNotificationRequest(JSON.stringify(body), { maxMessageBytes });
        if (result.ok) return;
        const target = body['target'];
        const fields = [
          ...Object.keys(body),
          'text',
          'card',
          ...(typeof target === 'object' && target !== null && !Array.isArray(target) ? Object.keys(target).map((field) => `target.${field}`) : []),
        ];
        for (const error of result.errors) {
          assert.ok(
            fields.some((field) => error.includes(`"${field}"`)),
            `${JSON.stringify(error)} names none of ${JSON.stringify(fields)}`,
          );
        }
      }),
      runs,
    );
  });

  test('a body that is not a JSON object is refused as a whole, saying so', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson.filter((json) => typeof json !== 'object' || json === null || Array.isArray(json)).map((json) => JSON.stringify(json)), fc.string({ maxLength: 50 })), (bodyText) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(bodyText);
        } catch {
          parsed = undefined;
        }
        fc.pre(typeof parsed !== 'object' || parsed === null || Array.isArray(parsed));
        const result = parseNotificationRequest(bodyText, { maxMessageBytes: 81920 });
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.errors.join(' '), /The request body/);
      }),
      runs,
    );
  });

  test('an accepted body sends exactly its text and card', () => {
    fc.assert(
      fc.property(nearBody, (generated) => {
        // The body as the endpoint receives it (generated objects may lack a prototype; parsed ones never do).
        const body = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>;
        const result = parseNotificationRequest(JSON.stringify(body), { maxMessageBytes: 81920 });
        if (!result.ok) return;
        assert.equal(result.value.activity.text, body['text']);
        assert.deepEqual(result.value.activity.attachments?.[0]?.content, body['card']);
      }),
      runs,
    );
  });
});
