/**
 * What one Storage REST request is, as a bill would count it: each request is
 * one transaction, an entity group transaction (`$batch`) included, whatever
 * number of entities it carries. Path-style URLs as Azurite serves them
 * (`/devstoreaccount1/...`); the first path segment is the account.
 */

export type StorageService = 'table' | 'queue';

export type StorageRequestKind =
  | 'table point read'
  | 'table query'
  | 'table insert'
  | 'table update'
  | 'table delete'
  | 'table batch'
  | 'table create or list tables'
  | 'table other'
  | 'queue put message'
  | 'queue get messages'
  | 'queue peek messages'
  | 'queue delete message'
  | 'queue update message'
  | 'queue create or metadata'
  | 'queue other';

export function storageRequestKind(service: StorageService, method: string, url: string): StorageRequestKind {
  const [path = '', query = ''] = url.split('?', 2);
  // Drop the account segment: "/devstoreaccount1/notifications(PartitionKey='a',RowKey='b')" → ["notifications(...)"].
  const segments = path.split('/').filter((segment) => segment !== '').slice(1).map(decodeURIComponent);
  const verb = method.toUpperCase();
  return service === 'table' ? tableKind(verb, segments) : queueKind(verb, segments, new URLSearchParams(query));
}

function tableKind(verb: string, segments: readonly string[]): StorageRequestKind {
  const [resource = ''] = segments;
  if (resource === '$batch') return verb === 'POST' ? 'table batch' : 'table other';
  if (resource === 'Tables' || resource.startsWith('Tables(')) return 'table create or list tables';
  const entityKey = /\(PartitionKey='.*',\s*RowKey='.*'\)$/.test(resource);
  switch (verb) {
    case 'GET':
      return entityKey ? 'table point read' : 'table query';
    case 'POST':
      return 'table insert';
    case 'PUT':
    case 'PATCH':
    case 'MERGE':
      return entityKey ? 'table update' : 'table other';
    case 'DELETE':
      return entityKey ? 'table delete' : 'table other';
    default:
      return 'table other';
  }
}

function queueKind(verb: string, segments: readonly string[], query: URLSearchParams): StorageRequestKind {
  const [, collection, messageId] = segments;
  if (collection !== 'messages') {
    return segments.length === 1 && (verb === 'PUT' || verb === 'GET' || verb === 'HEAD') ? 'queue create or metadata' : 'queue other';
  }
  if (messageId !== undefined) {
    if (verb === 'DELETE') return 'queue delete message';
    if (verb === 'PUT') return 'queue update message';
    return 'queue other';
  }
  if (verb === 'POST') return 'queue put message';
  if (verb === 'GET') return query.get('peekonly') === 'true' ? 'queue peek messages' : 'queue get messages';
  return 'queue other';
}

/** The table a table-service request is about ("notifications" for ".../notifications(PartitionKey=...)"), or its resource ("$batch", "Tables"). */
export function tableNameOf(url: string): string {
  const [path = ''] = url.split('?', 1);
  const resource = decodeURIComponent(path.split('/').filter((segment) => segment !== '')[1] ?? '');
  return resource.replace(/\(.*\)$/, '');
}

/** Operations inside a `$batch` body: each changeset part carries one request line ("POST http://... HTTP/1.1"). */
export function batchOperationCount(body: string): number {
  return body.match(/^(GET|POST|PUT|PATCH|MERGE|DELETE) https?:\/\/\S+ HTTP\/1\.1\r?$/gm)?.length ?? 0;
}

/** Messages in a Get Messages answer (XML `<QueueMessage>` elements). */
export function queueMessageCount(body: string): number {
  return body.match(/<QueueMessage>/g)?.length ?? 0;
}
