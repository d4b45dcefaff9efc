import { describe, expect, it } from 'vitest';
import { formatRows } from '../../shared/local/format-rows.js';

const RESULT = {
  columns: ['agent', 'n', 'attrs'],
  types: ['VARCHAR', 'BIGINT', 'MAP(VARCHAR, VARCHAR)'],
  rows: [
    ['codex', '12', { 'user.email': 'a@x' }],
    ['gemini-cli', '3', null],
    ['=cmd, "two"\nlines', '100', {}],
  ],
  truncated: false,
};

describe('formatRows', () => {
  it('aligns a table: text to the left, numbers to the right, NULL shown, line breaks escaped, a row count below', () => {
    expect(formatRows(RESULT, 'table')).toBe(
      [
        'agent              |   n | attrs',
        '-------------------+-----+---------------------',
        'codex              |  12 | {"user.email":"a@x"}',
        'gemini-cli         |   3 | NULL',
        '=cmd, "two"\\nlines | 100 | {}',
        '(3 rows)',
        '',
      ].join('\n'),
    );
  });

  it('cuts long cells in the table and says when rows were left out', () => {
    const text = formatRows({ columns: ['v'], types: ['VARCHAR'], rows: [['x'.repeat(200)]], truncated: true }, 'table');
    expect(text.split('\n')[2]).toBe(`${'x'.repeat(79)}…`);
    expect(text.split('\n')[3]).toBe('(1 row, more not shown)');
  });

  it('writes CSV with a header, quoting per RFC 4180 and formulas defused', () => {
    expect(formatRows(RESULT, 'csv')).toBe(['agent,n,attrs', 'codex,12,"{""user.email"":""a@x""}"', 'gemini-cli,3,', `"'=cmd, ""two""\nlines",100,{}`, ''].join('\r\n'));
  });

  it('writes JSON row objects with whole values', () => {
    expect(JSON.parse(formatRows(RESULT, 'json'))).toEqual([
      { agent: 'codex', n: '12', attrs: { 'user.email': 'a@x' } },
      { agent: 'gemini-cli', n: '3', attrs: null },
      { agent: '=cmd, "two"\nlines', n: '100', attrs: {} },
    ]);
  });
});
