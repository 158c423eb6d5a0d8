import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { FakeConnectorOptions } from '../fakeConnector';
import type { ChangeKind, ChangeLogSummary } from '../fakeConnectorChangeLog';
import type { FakeTeam } from '../fakeConnectorTeams';

/**
 * The fake Bot Connector in a child process (connectorChild.ts): its own event
 * loop, so its work does not slow the engine down, and its records of 100,000
 * deliveries do not count in the benchmark's RSS.
 */

export interface ConnectorStats {
  /** Date.now() of the first and last accepted delivery. */
  readonly firstAcceptedAt: number;
  readonly lastAcceptedAt: number;
  readonly requests: number;
  /** 429s sent, by throttling and by injected faults. */
  readonly throttled: number;
  /** Of `throttled`: 429s because a throttling window was full (our own pace). */
  readonly throttledByRate: number;
  readonly distinctDelivered: number;
  readonly duplicates: number;
  /** TCP connections the app opened to the connector. */
  readonly connections: number;
  readonly maxOpenConnections: number;
  /** CPU time of the connector's process since the last reset, in ms. */
  readonly cpuMs: number;
}

/** The fake's updates or deletes since its last reset (see fakeConnectorChangeLog.ts). */
export interface ChangeStats extends ChangeLogSummary {
  /** PUTs and DELETEs of an activity the conversation no longer (or never) held: 404. */
  readonly unknown: number;
  /** Messages every conversation shows now. */
  readonly messagesShown: number;
}

export type ChildCommand =
  | { readonly command: 'stats' }
  | { readonly command: 'changes'; readonly kind: ChangeKind }
  | { readonly command: 'reset' }
  | { readonly command: 'stop' }
  | { readonly command: 'seedTeams'; readonly teams: readonly FakeTeam[] };
export type ChildMessage =
  | { readonly serviceUrl: string }
  | { readonly stats: ConnectorStats }
  | { readonly changes: ChangeStats }
  | { readonly done: true };

export class RemoteConnector {
  private constructor(
    private readonly child: ChildProcess,
    readonly serviceUrl: string,
  ) {}

  static async start(options: FakeConnectorOptions): Promise<RemoteConnector> {
    const child = fork(join(__dirname, 'connectorChild.js'), [JSON.stringify(options)], { stdio: 'inherit' });
    const [message] = (await once(child, 'message')) as [ChildMessage];
    if (!('serviceUrl' in message)) throw new Error('fake connector child did not start');
    return new RemoteConnector(child, message.serviceUrl);
  }

  async stats(): Promise<ConnectorStats> {
    const message = await this.ask({ command: 'stats' });
    if (!('stats' in message)) throw new Error('fake connector child sent no stats');
    return message.stats;
  }

  async changes(kind: ChangeKind): Promise<ChangeStats> {
    const message = await this.ask({ command: 'changes', kind });
    if (!('changes' in message)) throw new Error('fake connector child sent no change stats');
    return message.changes;
  }

  async reset(): Promise<void> {
    await this.ask({ command: 'reset' });
  }

  /** Seeds Teams' teams (over IPC: thousands of members do not fit the command line). */
  async seedTeams(teams: readonly FakeTeam[]): Promise<void> {
    await this.ask({ command: 'seedTeams', teams });
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.send({ command: 'stop' });
    await exited;
  }

  private async ask(command: ChildCommand): Promise<ChildMessage> {
    const answer = once(this.child, 'message') as Promise<[ChildMessage]>;
    this.child.send(command);
    return (await answer)[0];
  }
}

/** Runs `work` against a fake connector started with `options`, stopping it afterwards. */
export async function withConnector<T>(options: FakeConnectorOptions, work: (connector: RemoteConnector) => Promise<T>): Promise<T> {
  const connector = await RemoteConnector.start(options);
  try {
    return await work(connector);
  } finally {
    await connector.stop();
  }
}
