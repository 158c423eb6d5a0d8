// A child process of the queued scenario: one more instance doing queue work (the plan and deliver
// queues of the parent's Azurite), as a scaled-out function app would, until its parent says stop.
import { startQueueWorkers } from '../queueWorkers';
import { createServices } from '../../shared/services';
import { benchSettings, quietLogger } from './measure';
import { SyntheticConversationStore } from './references';

export interface QueueWorkerChildOptions {
  readonly connectionString: string;
  readonly table: string;
  readonly overrides: Record<string, string>;
  /** The parent's generated references, made again here the same way. */
  readonly synthetic: { readonly count: number; readonly tenants: number; readonly serviceUrl: string };
}

function main(options: QueueWorkerChildOptions): void {
  const settings = benchSettings(options.connectionString, options.table, options.overrides);
  const { count, tenants, serviceUrl } = options.synthetic;
  const services = createServices(settings, { store: new SyntheticConversationStore(count, tenants, serviceUrl), logger: quietLogger });
  const workers = startQueueWorkers(options.connectionString, services.queued);
  process.on('message', (message: { readonly command?: string }) => {
    if (message.command === 'stop') void workers.stop().then(() => process.exit(0));
  });
  process.send?.({ ready: true });
}

main(JSON.parse(process.argv[2] ?? '{}') as QueueWorkerChildOptions);
