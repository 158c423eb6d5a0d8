import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkQueues } from '../../shared/queued/workQueues';

/** Azurite's published development account: a well-known name and key, not a secret. */
const account = 'devstoreaccount1';
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * The queues the app sends its work to, as observed: WorkQueues (what the composition root
 * builds for AzureWebJobsStorage) enqueues a plan and a delivery message against a local
 * recording endpoint on 127.0.0.1, and the queue names are read off the request paths.
 */
export async function queuesTheAppEnqueuesTo(): Promise<string[]> {
  const queues = new Set<string>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const segments = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.split('/').filter(Boolean);
      const queue = segments[1];
      if (segments[0] === account && queue !== undefined && segments[2] === 'messages' && request.method === 'POST') {
        queues.add(queue);
        const now = new Date().toUTCString();
        response.writeHead(201, { 'content-type': 'application/xml' });
        response.end(
          `<?xml version="1.0" encoding="utf-8"?><QueueMessagesList><QueueMessage><MessageId>1</MessageId>` +
            `<InsertionTime>${now}</InsertionTime><ExpirationTime>${now}</ExpirationTime><PopReceipt>r</PopReceipt>` +
            `<TimeNextVisible>${now}</TimeNextVisible></QueueMessage></QueueMessagesList>`,
        );
        return;
      }
      // Creating the queue (PUT /<account>/<queue>).
      response.writeHead(request.method === 'PUT' ? 201 : 404);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};QueueEndpoint=http://127.0.0.1:${port}/${account};`;
    const work = new WorkQueues({ kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString });
    await work.enqueuePlan({ id: 'infra-template-check' });
    await work.enqueueDeliver({ id: 'infra-template-check', tenantId: 'tenant' });
    return [...queues].sort();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
