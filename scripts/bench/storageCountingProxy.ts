import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { batchOperationCount, queueMessageCount, storageRequestKind, tableNameOf, type StorageRequestKind, type StorageService } from './storageRequestKind';

/**
 * An HTTP proxy on 127.0.0.1 in front of one Azurite service that counts
 * every request passing through it by kind: what Azure would bill as storage
 * transactions. Only the cost bench points its clients here; everything else
 * talks to Azurite directly.
 */

export interface StorageCounts {
  /** Requests by kind (each one a billed transaction). */
  readonly requests: ReadonlyMap<StorageRequestKind, number>;
  /** Table-service requests by `kind table` (the batch's table is inside its body: `$batch`). */
  readonly byTable: ReadonlyMap<string, number>;
  /** Entity operations inside `$batch` requests (billed as one transaction per batch). */
  readonly batchOperations: number;
  /** Get Messages requests that found no message. */
  readonly emptyGets: number;
  /** Requests answered with a 4xx or 5xx, by `kind status`. */
  readonly failed: ReadonlyMap<string, number>;
}

export interface CountingProxy {
  readonly port: number;
  counts(): StorageCounts;
  reset(): void;
  stop(): Promise<void>;
}

export async function startCountingProxy(service: StorageService, targetPort: number): Promise<CountingProxy> {
  let requests = new Map<StorageRequestKind, number>();
  let byTable = new Map<string, number>();
  let failed = new Map<string, number>();
  let batchOperations = 0;
  let emptyGets = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const add = <K>(map: Map<K, number>, key: K): void => {
    map.set(key, (map.get(key) ?? 0) + 1);
  };

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const kind = storageRequestKind(service, incoming.method ?? 'GET', incoming.url ?? '/');
    add(requests, kind);
    if (service === 'table') add(byTable, `${kind} ${tableNameOf(incoming.url ?? '/')}`);
    const requestBody: Buffer[] = [];
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (answer) => {
        const status = answer.statusCode ?? 502;
        if (status >= 400) add(failed, `${kind} ${status}`);
        outgoing.writeHead(status, answer.headers);
        const answerBody: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => {
          if (kind === 'queue get messages') answerBody.push(chunk);
          outgoing.write(chunk);
        });
        answer.on('end', () => {
          if (kind === 'queue get messages' && status < 400 && queueMessageCount(Buffer.concat(answerBody).toString('utf8')) === 0) emptyGets += 1;
          outgoing.end();
        });
      },
    );
    upstream.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    incoming.on('data', (chunk: Buffer) => {
      if (kind === 'table batch') requestBody.push(chunk);
      upstream.write(chunk);
    });
    incoming.on('end', () => {
      if (kind === 'table batch') batchOperations += batchOperationCount(Buffer.concat(requestBody).toString('utf8'));
      upstream.end();
    });
  };

  const server = createServer(forward);
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    counts: () => ({ requests: new Map(requests), byTable: new Map(byTable), batchOperations, emptyGets, failed: new Map(failed) }),
    reset: () => {
      requests = new Map();
      byTable = new Map();
      failed = new Map();
      batchOperations = 0;
      emptyGets = 0;
    },
    stop: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
