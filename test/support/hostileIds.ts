/** Conversation ids that break naive table keys, URLs or OData literals. */

const longPrefix = 'p'.repeat(600);

export const hostileIds: readonly string[] = [
  'slash/back\\slash#hash?query',
  'control\u0000\u0001\u007f\u0085chars',
  "it's 'quoted'",
  '100%25%',
  'bang!21~tilde~',
  '~sha256~' + '0'.repeat(64),
  '19:abc@thread.tacv2;messageid=1690000000000',
  '19:meeting_NzQ4YjY5@thread.v2',
  'a:1XyZ_Hqx8Ws9Ab3-TxUfLd9YXv3rPGgZvS8cR0k7f2wEmQ',
  '😀 emoji 🎉',
  '会話の中文标识',
  'e\u0301 combining',
  '\u00e9 combining',
  '..',
  ' leading and trailing space ',
  'x'.repeat(2000),
  longPrefix + 'one',
  longPrefix + 'two',
];
