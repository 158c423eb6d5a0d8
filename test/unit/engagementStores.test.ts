import { describe } from 'node:test';
import { MemoryAcknowledgementStore } from '../../shared/engagement/memoryAcknowledgementStore';
import { MemoryReadReceiptStore } from '../../shared/engagement/memoryReadReceiptStore';
import { acknowledgementStoreContract } from '../support/acknowledgementStoreContract';
import { readReceiptStoreContract } from '../support/readReceiptStoreContract';

describe('MemoryAcknowledgementStore', () => {
  acknowledgementStoreContract(() => new MemoryAcknowledgementStore());
});

describe('MemoryReadReceiptStore', () => {
  readReceiptStoreContract(() => new MemoryReadReceiptStore());
});
