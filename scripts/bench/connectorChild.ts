// The child process of RemoteConnector: runs one fake Bot Connector and answers its parent's commands.
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../fakeConnector';
import type { ChildCommand, ChildMessage, ConnectorStats } from './remoteConnector';

async function main(options: FakeConnectorOptions): Promise<void> {
  const connector = await startFakeConnector(options);
  const reply = (message: ChildMessage): void => void process.send?.(message);
  let cpuAtReset = process.cpuUsage();
  process.on('message', (message: ChildCommand) => {
    if (message.command === 'stats') reply({ stats: statsOf(connector, process.cpuUsage(cpuAtReset)) });
    if (message.command === 'reset') {
      connector.reset();
      cpuAtReset = process.cpuUsage();
      reply({ done: true });
    }
    if (message.command === 'changes') {
      reply({ changes: { ...connector.changeLog.summary(message.kind), unknown: connector.activityChanges.unknown, messagesShown: connector.messageCount() } });
    }
    if (message.command === 'seedTeams') {
      for (const team of message.teams) connector.teams.seedTeam(team);
      reply({ done: true });
    }
    if (message.command === 'stop') void connector.stop().then(() => process.exit(0));
  });
  reply({ serviceUrl: connector.serviceUrl });
}

function statsOf(connector: FakeConnector, cpu: NodeJS.CpuUsage): ConnectorStats {
  return {
    firstAcceptedAt: connector.received[0]?.receivedAt ?? 0,
    lastAcceptedAt: connector.received[connector.received.length - 1]?.receivedAt ?? 0,
    requests: connector.requests,
    throttled: connector.throttled,
    throttledByRate: connector.throttledByRate,
    distinctDelivered: new Set(connector.received.map((activity) => activity.conversationId)).size,
    duplicates: connector.duplicates().size,
    connections: connector.connections,
    maxOpenConnections: connector.maxOpenConnections,
    cpuMs: (cpu.user + cpu.system) / 1_000,
  };
}

void main(JSON.parse(process.argv[2] ?? '{}') as FakeConnectorOptions);
