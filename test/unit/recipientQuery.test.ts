import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvField } from '../../shared/queued/recipientCsv';
import { parseRecipientQuery } from '../../shared/queued/recipientQuery';

describe('the query of the recipient export', () => {
  const parse = (query: string) => parseRecipientQuery(new URLSearchParams(query));

  test('without parameters it is a JSON page of 100 with no filter', () => {
    assert.deepEqual(parse(''), { ok: true, value: { format: 'json', limit: 100, filter: {} } });
  });

  test('format, limit, after and both filters are read as given', () => {
    assert.deepEqual(parse('format=csv&limit=1000&after=abc&outcome=optedOut&acknowledged=false'), {
      ok: true,
      value: { format: 'csv', limit: 1000, after: 'abc', filter: { outcome: 'optedOut', acknowledged: false } },
    });
  });

  test('each malformed parameter is named in its own message', () => {
    const parsed = parse('format=xml&limit=1001&outcome=sent&acknowledged=yes');
    assert.equal(parsed.ok, false);
    const errors = parsed.ok ? [] : parsed.errors;
    assert.equal(errors.length, 4);
    for (const name of ['format', 'limit', 'outcome', 'acknowledged']) assert.ok(errors.some((error) => error.startsWith(`"${name}"`)), name);
  });
});

describe('a CSV field', () => {
  test('is quoted when it holds a comma, a quote or a line break, with quotes doubled', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField(null), '');
  });

  test('that a spreadsheet would run as a formula gets a leading apostrophe', () => {
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('-1+2'), "'-1+2");
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  });
});
