import { once } from 'node:events';
import { createServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/** Where fixture functions POST JSON reports of what they received or did. */
export interface CallbackServer<Report> {
  readonly url: string;
  /** Every report so far, in arrival order. */
  readonly reports: Report[];
  /** Resolves once `count` reports match; rejects after `timeoutMs` (default 30 s) so a broken trigger fails instead of hanging. */
  waitFor(match: (report: Report) => boolean, count?: number, timeoutMs?: number): Promise<Report[]>;
  close(): Promise<void>;
}

export async function startCallbackServer<Report>(): Promise<CallbackServer<Report>> {
  const reports: Report[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      reports.push(JSON.parse(text) as Report);
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the callback server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/reports`,
    reports,
    waitFor: async (match, count = 1, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = reports.filter(match);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} matching report(s) within ${timeoutMs} ms; reports: ${JSON.stringify(reports)}`);
        }
        await delay(25);
      }
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
