import { after, before } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';

export interface TestAzurite {
  /** The table connection string of the running Azurite. */
  connectionString(): string;
  /** A table name no other test of this file uses: `<prefix><n>`. */
  freshTableName(prefix: string): string;
}

/** Starts one Azurite for the calling test file (registers its before and after hooks). */
export function useAzurite(): TestAzurite {
  let azurite: RunningAzurite | undefined;
  let tables = 0;
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });
  return {
    connectionString: () => {
      if (azurite === undefined) throw new Error('Azurite did not start');
      return azurite.connectionString;
    },
    freshTableName: (prefix) => {
      tables += 1;
      return `${prefix}${tables}`;
    },
  };
}
