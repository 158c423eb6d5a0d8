import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchOperationCount, queueMessageCount, storageRequestKind, tableNameOf } from '../../scripts/bench/storageRequestKind';

describe('the cost bench names each storage request as a bill counts it', () => {
  it('tells a point read from a query and a write from a delete on the table service', () => {
    const entity = "/devstoreaccount1/notifications(PartitionKey='n%3A1',RowKey='work%3At1')";
    assert.equal(storageRequestKind('table', 'GET', entity), 'table point read');
    assert.equal(storageRequestKind('table', 'GET', "/devstoreaccount1/notifications()?$filter=PartitionKey%20eq%20'n'"), 'table query');
    assert.equal(storageRequestKind('table', 'GET', '/devstoreaccount1/conversations?$top=500'), 'table query');
    assert.equal(storageRequestKind('table', 'POST', '/devstoreaccount1/notifications'), 'table insert');
    assert.equal(storageRequestKind('table', 'PUT', entity), 'table update');
    assert.equal(storageRequestKind('table', 'PATCH', entity), 'table update');
    assert.equal(storageRequestKind('table', 'DELETE', entity), 'table delete');
    assert.equal(storageRequestKind('table', 'POST', '/devstoreaccount1/$batch'), 'table batch');
    assert.equal(storageRequestKind('table', 'POST', '/devstoreaccount1/Tables'), 'table create or list tables');
  });

  it('tells putting, getting, peeking, updating and deleting messages apart on the queue service', () => {
    assert.equal(storageRequestKind('queue', 'POST', '/devstoreaccount1/notifications-plan/messages?visibilitytimeout=0'), 'queue put message');
    assert.equal(storageRequestKind('queue', 'GET', '/devstoreaccount1/notifications-plan/messages?numofmessages=32'), 'queue get messages');
    assert.equal(storageRequestKind('queue', 'GET', '/devstoreaccount1/notifications-plan/messages?peekonly=true'), 'queue peek messages');
    assert.equal(storageRequestKind('queue', 'DELETE', '/devstoreaccount1/notifications-plan/messages/abc?popreceipt=x'), 'queue delete message');
    assert.equal(storageRequestKind('queue', 'PUT', '/devstoreaccount1/notifications-plan/messages/abc?popreceipt=x'), 'queue update message');
    assert.equal(storageRequestKind('queue', 'PUT', '/devstoreaccount1/notifications-plan'), 'queue create or metadata');
    assert.equal(storageRequestKind('queue', 'GET', '/devstoreaccount1/notifications-plan?comp=metadata'), 'queue create or metadata');
  });

  it('names the table a table request is about, without its entity key', () => {
    assert.equal(tableNameOf("/devstoreaccount1/notifications(PartitionKey='n%3A1',RowKey='w')?$select=state"), 'notifications');
    assert.equal(tableNameOf('/devstoreaccount1/deliveries()?$filter=x'), 'deliveries');
    assert.equal(tableNameOf('/devstoreaccount1/$batch'), '$batch');
  });

  it('counts the operations inside a batch body and the messages in a Get Messages answer', () => {
    const batch = [
      '--batch_1',
      'Content-Type: multipart/mixed; boundary=changeset_1',
      '',
      '--changeset_1',
      'Content-Type: application/http',
      '',
      "PUT http://127.0.0.1:10002/devstoreaccount1/audience(PartitionKey='a',RowKey='1') HTTP/1.1",
      '',
      '--changeset_1',
      'Content-Type: application/http',
      '',
      "PUT http://127.0.0.1:10002/devstoreaccount1/audience(PartitionKey='a',RowKey='2') HTTP/1.1",
      '--changeset_1--',
    ].join('\r\n');
    assert.equal(batchOperationCount(batch), 2);
    assert.equal(queueMessageCount('<QueueMessagesList><QueueMessage><MessageId>1</MessageId></QueueMessage><QueueMessage></QueueMessage></QueueMessagesList>'), 2);
    assert.equal(queueMessageCount('<QueueMessagesList />'), 0);
  });
});
