import { TableClient } from '@azure/data-tables';

/** How many rows a queued notification has in each table it writes, found by their keys alone. */
export interface NotificationRows {
  /** Its own partition of `notifications`: status, plan, work and failure rows. */
  readonly notifications: number;
  /** Its entry in the `~index` partition. */
  readonly index: number;
  /** `notificationrecipients`, partitions `<id>\n<tenant>`. */
  readonly audience: number;
  /** `deliveries`, partitions `queued\n<id>\n<tenant>`. */
  readonly ledger: number;
  /** `readreceipts`: its read marks (`n<id>`), its listing of chats (`s<id>,<write>`) and its row in each chat's unread index (property `notificationId`). */
  readonly readReceipts: number;
}

export const noRows: NotificationRows = { notifications: 0, index: 0, audience: 0, ledger: 0, readReceipts: 0 };

export async function countRows(connectionString: string, table: string, filter: string): Promise<number> {
  const client = TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
  let rows = 0;
  try {
    for await (const _row of client.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) rows += 1;
  } catch (error) {
    if (error instanceof Error && 'statusCode' in error && error.statusCode === 404) return 0;
    throw error;
  }
  return rows;
}

/** Ids are letters, digits and `. _ : -` (never escaped); a newline in a key is escaped as `!0A`. */
export async function notificationRows(connectionString: string, id: string): Promise<NotificationRows> {
  return {
    notifications: await countRows(connectionString, 'notifications', `PartitionKey eq '${id}'`),
    index: await countRows(connectionString, 'notifications', `PartitionKey eq '~index' and id eq '${id}'`),
    audience: await countRows(connectionString, 'notificationrecipients', `PartitionKey ge '${id}!0A' and PartitionKey lt '${id}!0B'`),
    ledger: await countRows(connectionString, 'deliveries', `PartitionKey ge 'queued!0A${id}!0A' and PartitionKey lt 'queued!0A${id}!0B'`),
    readReceipts: await countRows(connectionString, 'readreceipts', `notificationId eq '${id}' or PartitionKey eq 'n${id}' or (PartitionKey ge 's${id},' and PartitionKey lt 's${id}-')`),
  };
}
