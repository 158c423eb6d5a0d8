import { spawn } from 'node:child_process';
import { freePort, startAzurite, stopChild } from '../../scripts/azurite';

/** Azurite's table and queue services on free ports, in memory; the connection string names both endpoints. */
export async function startQueueAzurite(): Promise<{ readonly connectionString: string; stop(): Promise<void> }> {
  const tables = await startAzurite();
  const queuePort = await freePort();
  const queue = spawn(
    process.execPath,
    [require.resolve('azurite/dist/src/queue/main.js'), '--queueHost', '127.0.0.1', '--queuePort', String(queuePort), '--inMemoryPersistence', '--silent', '--skipApiVersionCheck', '--disableTelemetry'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(`127.0.0.1:${queuePort}`)) resolve();
    };
    queue.stdout.on('data', onData);
    queue.stderr.on('data', onData);
    queue.once('exit', (code) => reject(new Error(`Azurite's queue service exited with ${code}: ${output}`)));
  });
  queue.stdout.resume();
  queue.stderr.resume();
  return {
    connectionString: `${tables.connectionString}QueueEndpoint=http://127.0.0.1:${queuePort}/devstoreaccount1;`,
    stop: async () => {
      await stopChild(queue, 5_000, 'SIGINT');
      await tables.stop();
    },
  };
}
