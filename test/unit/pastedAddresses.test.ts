import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readPastedAddresses } from '../../shared/notifications/pastedAddresses';

describe('email addresses pasted into the console', () => {
  test('one per line: each address is read, with the spaces around it trimmed', () => {
    const pasted = readPastedAddresses('  ada@contoso.com\nbob@contoso.com  \r\n\ncy@fabrikam.com\n');
    assert.deepEqual(pasted, { addresses: ['ada@contoso.com', 'bob@contoso.com', 'cy@fabrikam.com'], read: 3, duplicates: 0, malformed: [] });
  });

  test('a spreadsheet column, a copied row (tabs) and a mail client list (commas, semicolons) are read alike', () => {
    const expected = ['ada@contoso.com', 'bob@contoso.com', 'cy@contoso.com'];
    for (const pasted of ['ada@contoso.com\r\nbob@contoso.com\r\ncy@contoso.com\r\n', 'ada@contoso.com\tbob@contoso.com\tcy@contoso.com', 'ada@contoso.com, bob@contoso.com; cy@contoso.com', '"ada@contoso.com"\n"bob@contoso.com"\n"cy@contoso.com"']) {
      assert.deepEqual(readPastedAddresses(pasted).addresses, expected, JSON.stringify(pasted));
    }
  });

  test('an address given twice, in any case, is kept once and counted as a duplicate', () => {
    const pasted = readPastedAddresses('Ada@Contoso.com\nbob@contoso.com\nada@contoso.com\nBOB@CONTOSO.COM');
    assert.deepEqual(pasted.addresses, ['Ada@Contoso.com', 'bob@contoso.com']);
    assert.equal(pasted.read, 4);
    assert.equal(pasted.duplicates, 2);
  });

  test('entries that are not name@domain are listed as malformed (a header cell, a name, two @), and left out', () => {
    const pasted = readPastedAddresses('Email\nada@contoso.com\nBob Smith\nx@y@z\nBob Smith\n' + `${'a'.repeat(320)}@contoso.com`);
    assert.deepEqual(pasted.addresses, ['ada@contoso.com']);
    assert.deepEqual(pasted.malformed, ['Email', 'Bob Smith', 'x@y@z', `${'a'.repeat(320)}@contoso.com`]);
    assert.equal(pasted.read, 6);
  });

  test('an empty box, or only separators, reads nothing', () => {
    for (const pasted of ['', ' \n\t ,;; \r\n']) assert.deepEqual(readPastedAddresses(pasted), { addresses: [], read: 0, duplicates: 0, malformed: [] });
  });
});
