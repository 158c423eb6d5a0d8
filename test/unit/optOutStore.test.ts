import { describe } from 'node:test';
import { MemoryOptOutStore } from '../../shared/engagement/memoryOptOutStore';
import { optOutStoreContract } from '../support/optOutStoreContract';

describe('MemoryOptOutStore', () => {
  optOutStoreContract(() => new MemoryOptOutStore());
});
