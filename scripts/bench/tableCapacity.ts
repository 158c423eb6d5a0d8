import { TableClient } from '@azure/data-tables';

/**
 * How much table capacity rows take, by the size formula the Table service
 * bills capacity by: 4 bytes + 2 bytes per character of PartitionKey and
 * RowKey + for each property 8 bytes + 2 bytes per character of its name +
 * its value (string: 4 + 2 per character; Int32 4; Int64, Double, DateTime 8;
 * Boolean 1; Guid 16; Binary 4 + its bytes).
 */

const systemProperties = new Set(['partitionKey', 'rowKey', 'timestamp', 'etag']);

export function entitySizeBytes(entity: Readonly<Record<string, unknown>>): number {
  const keys = String(entity.partitionKey ?? '').length + String(entity.rowKey ?? '').length;
  let size = 4 + 2 * keys;
  for (const [name, value] of Object.entries(entity)) {
    if (systemProperties.has(name) || name.startsWith('odata.')) continue;
    size += 8 + 2 * name.length + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return 4 + 2 * value.length;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number' || value instanceof Date) return 8;
  if (typeof value === 'object' && value !== null && 'value' in value && 'type' in value) {
    const { value: raw, type } = value as { value: unknown; type: string };
    switch (type.replace(/^Edm\./, '')) {
      case 'Int32':
        return 4;
      case 'Boolean':
        return 1;
      case 'Guid':
        return 16;
      case 'Binary':
        return 4 + Buffer.from(String(raw), 'base64').length;
      case 'String':
        return 4 + 2 * String(raw).length;
      default:
        return 8;
    }
  }
  return 4 + 2 * JSON.stringify(value ?? '').length;
}

/** Rows and billed bytes of every entity in `tables` (a table not created yet holds none). */
export async function tableCapacity(connectionString: string, tables: readonly string[]): Promise<{ rows: number; bytes: number }> {
  let rows = 0;
  let bytes = 0;
  for (const table of tables) {
    const client = TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
    try {
      for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: {} })) {
        rows += 1;
        bytes += entitySizeBytes(entity);
      }
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }
  return { rows, bytes };
}
