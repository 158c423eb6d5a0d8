import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PollingBackoff } from '../../scripts/localHost/queueListener';
import { QueueConnectionError, resolveQueueConnection } from '../../scripts/localHost/queueConnection';
import { decodeMessageText, dotNetDateTimeOffset, MessageDecodingError, queueTriggerMetadata, type ReceivedQueueMessage } from '../../scripts/localHost/queueMessages';
import { parseTimeSpan, QueueOptionsError, readQueueOptions } from '../../scripts/localHost/queueOptions';
import { normalizeQueueName } from '../../scripts/localHost/queueTriggers';

function message(text: string, fields: Partial<ReceivedQueueMessage> = {}): ReceivedQueueMessage {
  return {
    messageId: 'b5b5c2a4-0000-4000-8000-000000000001',
    popReceipt: 'AgAAAAMAAAAAAAAA',
    messageText: text,
    dequeueCount: 2,
    insertedOn: new Date('2026-11-28T07:40:05Z'),
    expiresOn: new Date('2026-12-05T07:40:05Z'),
    nextVisibleOn: new Date('2026-11-28T07:50:05Z'),
    ...fields,
  };
}

describe('queue message decoding (host default messageEncoding: base64)', () => {
  it('decodes base64 to UTF-8 text', () => {
    assert.equal(decodeMessageText(message(Buffer.from('{"a":"ü"}').toString('base64')), 'base64'), '{"a":"ü"}');
  });

  it('refuses text that is not strict base64, as .NET does, so the message goes to the poison queue', () => {
    for (const text of ['not base64!', 'abc', 'ab=c', '{"a":1}']) {
      assert.throws(() => decodeMessageText(message(text), 'base64'), MessageDecodingError, text);
    }
  });

  it('passes the text through with messageEncoding none', () => {
    assert.equal(decodeMessageText(message('{"a":1}'), 'none'), '{"a":1}');
  });
});

describe('queue trigger metadata', () => {
  it('has the host binding data, with numbers and dates as JSON the way the host serializes them', () => {
    const metadata = queueTriggerMetadata(message('hello'), 'hello', 'work', new Date('2026-11-28T07:41:00Z'));
    assert.deepEqual(metadata.Id, { string: 'b5b5c2a4-0000-4000-8000-000000000001' });
    assert.deepEqual(metadata.DequeueCount, { json: '2' });
    assert.deepEqual(metadata.InsertionTime, { json: '"2026-11-28T07:40:05+00:00"' });
    assert.deepEqual(metadata.ExpirationTime, { json: '"2026-12-05T07:40:05+00:00"' });
    assert.deepEqual(metadata.NextVisibleTime, { json: '"2026-11-28T07:50:05+00:00"' });
    assert.deepEqual(metadata.PopReceipt, { string: 'AgAAAAMAAAAAAAAA' });
    assert.deepEqual(metadata.QueueTrigger, { string: 'hello' });
    assert.equal(JSON.parse(metadata.sys?.json ?? '{}').MethodName, 'work');
  });

  it('adds the top-level properties of a JSON object message, which win over built-in names regardless of case, as in the host', () => {
    const text = JSON.stringify({ id: 'payload id', Label: 'x', count: 3, nested: { a: 1 } });
    const metadata = queueTriggerMetadata(message(text), text, 'work');
    assert.deepEqual(metadata.Id, { string: 'payload id' });
    assert.equal(metadata.id, undefined);
    assert.deepEqual(metadata.Label, { string: 'x' });
    assert.deepEqual(metadata.count, { json: '3' });
    assert.deepEqual(metadata.nested, { json: '{"a":1}' });
  });

  it('writes dates as Newtonsoft writes a DateTimeOffset', () => {
    assert.equal(dotNetDateTimeOffset(new Date('2026-11-28T07:40:05.000Z')), '2026-11-28T07:40:05+00:00');
    assert.equal(dotNetDateTimeOffset(new Date('2026-11-28T07:40:05.120Z')), '2026-11-28T07:40:05.12+00:00');
  });
});

describe('host.json extensions.queues', () => {
  it('has the extension defaults, with a 2 s maxPollingInterval and a 600 s visibility window locally', () => {
    assert.deepEqual(readQueueOptions(undefined, {}, 4), {
      batchSize: 16,
      newBatchThreshold: 32,
      maxPollingIntervalMs: 2_000,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
      visibilityWindowSeconds: 600,
    });
  });

  it('reads host.json values, and app settings AzureFunctionsJobHost__extensions__queues__* override them', () => {
    const options = readQueueOptions(
      { batchSize: 8, newBatchThreshold: 4, maxPollingInterval: '00:00:02', visibilityTimeout: '00:00:05', maxDequeueCount: 3, messageEncoding: 'None' },
      { AzureFunctionsJobHost__extensions__queues__batchSize: '2', LOCAL_QUEUE_VISIBILITY_SECONDS: '30' },
      1,
    );
    assert.equal(options.batchSize, 2);
    assert.equal(options.newBatchThreshold, 4);
    assert.equal(options.maxPollingIntervalMs, 2_000);
    assert.equal(options.visibilityTimeoutMs, 5_000);
    assert.equal(options.maxDequeueCount, 3);
    assert.equal(options.messageEncoding, 'none');
    assert.equal(options.visibilityWindowSeconds, 30);
  });

  it('names the setting that is wrong', () => {
    assert.throws(() => readQueueOptions({ batchSize: 33 }, {}), (error: unknown) => error instanceof QueueOptionsError && /extensions\.queues\.batchSize/.test(error.message));
    assert.throws(() => readQueueOptions({ maxPollingInterval: '00:00:00.050' }, {}), QueueOptionsError);
    assert.throws(() => readQueueOptions({ visibilityTimeout: 5 }, {}), /visibilityTimeout: must be a duration/);
    assert.throws(() => readQueueOptions({}, { LOCAL_QUEUE_VISIBILITY_SECONDS: '0' }), /LOCAL_QUEUE_VISIBILITY_SECONDS/);
  });

  it('parses .NET TimeSpan text', () => {
    assert.equal(parseTimeSpan('00:01:00'), 60_000);
    assert.equal(parseTimeSpan('00:00:00.5'), 500);
    assert.equal(parseTimeSpan('1.00:00:00'), 86_400_000);
    assert.equal(parseTimeSpan('00:10'), 600_000);
    assert.equal(parseTimeSpan('10 s'), undefined);
  });
});

describe('queue trigger connections and names', () => {
  it('resolves the connection setting as the host does: the name, then AzureWebJobs<name>, AzureWebJobsStorage when empty', () => {
    assert.deepEqual(resolveQueueConnection('Work', { Work: 'A' }), { kind: 'connectionString', setting: 'Work', connectionString: 'A' });
    assert.deepEqual(resolveQueueConnection('Storage', { AzureWebJobsStorage: 'B' }), { kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: 'B' });
    assert.deepEqual(resolveQueueConnection('', { AzureWebJobsStorage: 'C' }), { kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: 'C' });
    assert.deepEqual(resolveQueueConnection('Work', { work__accountName: 'acct' }), {
      kind: 'identity',
      setting: 'Work',
      queueServiceUri: 'https://acct.queue.core.windows.net',
      credential: { kind: 'default' },
    });
    assert.deepEqual(
      resolveQueueConnection('', { AzureWebJobsStorage__queueServiceUri: 'https://q.example', AzureWebJobsStorage__credential: 'managedidentity', AzureWebJobsStorage__clientId: 'c1' }),
      { kind: 'identity', setting: 'AzureWebJobsStorage', queueServiceUri: 'https://q.example', credential: { kind: 'managedIdentity', clientId: 'c1' } },
    );
    assert.throws(() => resolveQueueConnection('Work', { Work__serviceUri: 'https://q.example', Work__credential: 'password' }), /Work__credential/);
    assert.throws(() => resolveQueueConnection('Missing', {}), QueueConnectionError);
  });

  it('lower-cases queue names and refuses invalid ones', () => {
    assert.equal(normalizeQueueName('Work-Items'), 'work-items');
    for (const bad of ['ab', 'work--items', '-work', 'work_items', 'a'.repeat(64)]) assert.throws(() => normalizeQueueName(bad), Error, bad);
  });
});

describe('queue polling backoff', () => {
  it('grows from 100 ms with jitter up to maxPollingInterval, and drops back to 100 ms after messages were found', () => {
    const backoff = new PollingBackoff(100, 1_000, () => 0.5);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => backoff.next(false)), [100, 200, 300, 500, 900, 1_000]);
    assert.equal(backoff.next(true), 100);
    assert.equal(backoff.next(false), 200);
  });
});
