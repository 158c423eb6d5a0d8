import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { conversationTypes, parseNotificationRequest } from '../../shared/notifications/notificationRequest';
import { loadOpenApiContract } from '../support/openApiContract';

/**
 * The documented request body (docs/openapi.yaml `NotificationRequest`) and
 * the parser the endpoints use accept the same bodies: a client that
 * validates against the document is never refused for its shape, and the
 * document never promises what the app refuses. (The size limit is the one
 * thing a schema cannot say; it is kept out of reach here.)
 */

const contract = loadOpenApiContract();
const schemaPointer = '/components/schemas/NotificationRequest';
const noSizeLimit = { maxMessageBytes: Number.MAX_SAFE_INTEGER };

const anyJson = fc.jsonValue({ maxDepth: 2 });
const nearString = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ' ', '\t\n', '\u00a0', 'Hello', 'release-1', 'a b', 'x'.repeat(129), 'ü'), anyJson);
const nearCard = fc.oneof(fc.record({ type: fc.constantFrom('AdaptiveCard', 'Card', ''), version: fc.constant('1.5') }, { requiredKeys: [] }), anyJson);
const nearList = fc.oneof(
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...conversationTypes, 'meeting', ' ', '')), { maxLength: 3 }),
  anyJson,
);
const targetFields = ['conversationIds', 'userIds', 'tenantIds', 'channelIds', 'conversationTypes', 'teamIds'];
const nearTarget = fc.oneof(fc.record(Object.fromEntries(targetFields.map((field) => [field, nearList])), { requiredKeys: [] }), anyJson);
const nearBody = fc.oneof(
  { weight: 4, arbitrary: fc.record({ id: nearString, text: nearString, card: nearCard, target: nearTarget }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.tuple(fc.record({ text: nearString }), fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 1 })).map(([known, extra]) => ({ ...extra, ...known })) },
  { weight: 1, arbitrary: anyJson },
);

describe('the documented notification request and the parser', () => {
  test('accept exactly the same bodies', () => {
    let accepted = 0;
    fc.assert(
      fc.property(nearBody, (body) => {
        const parsed = parseNotificationRequest(JSON.stringify(body), noSizeLimit);
        const problems = contract.validateAt(schemaPointer, JSON.parse(JSON.stringify(body)));
        if (parsed.ok) accepted++;
        assert.equal(
          problems.length === 0,
          parsed.ok,
          parsed.ok ? `the parser accepts it, the document refuses it: ${problems.join('; ')}` : `the document accepts it, the parser refuses it: ${parsed.errors.join(' ')}`,
        );
      }),
      { numRuns: 1_000 },
    );
    assert.ok(accepted > 20, `both sides of the check were exercised (${accepted} of 1000 bodies valid)`);
  });
});
