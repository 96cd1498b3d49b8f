// The plain column printer behind every table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type Row, columnChunks, renderColumns } from '../../../src/output/columns.js';

/** Stands in for a colour: visible markers that add length, as escape codes do. */
const mark = (text: string) => `<${text}>`;

describe('renderColumns', () => {
  test('sizes each column to its widest cell and separates columns by three spaces', () => {
    const output = renderColumns(
      ['SUBNET', 'PUBLIC IP', 'TYPE'],
      [
        ['10.5.1.0/24', '192.0.2.1', 'reservation'],
        ['10.5.52.0/24', '192.0.2.52', 'lease'],
      ],
    );
    assert.equal(
      output,
      [
        'SUBNET         PUBLIC IP    TYPE',
        '10.5.1.0/24    192.0.2.1    reservation',
        '10.5.52.0/24   192.0.2.52   lease',
        '',
      ].join('\n'),
    );
  });

  test('lets a header be the widest cell', () => {
    assert.equal(renderColumns(['SUBNET', 'TTL'], [['a', '1s']]), 'SUBNET   TTL\na        1s\n');
  });

  test('does not pad the last column', () => {
    const output = renderColumns(
      ['A', 'NOTES'],
      [
        ['x', 'renewal overdue'],
        ['y', 'z'],
      ],
    );
    for (const line of output.split('\n')) assert.equal(line, line.trimEnd());
    assert.equal(output, 'A   NOTES\nx   renewal overdue\ny   z\n');
  });

  test('trims trailing spaces left by empty cells at the end of a row', () => {
    const output = renderColumns(['SUBNET', 'IPV6', 'NOTES'], [['10.5.1.0/24', '', '']]);
    assert.equal(output, 'SUBNET        IPV6   NOTES\n10.5.1.0/24\n');
  });

  test('measures painted cells by their plain text, so colour never changes the layout', () => {
    const plain: Row[] = [
      ['10.5.1.0/24', 'reservation', '-'],
      ['10.5.12.0/24', 'lease', '30m0s'],
    ];
    const painted: Row[] = [
      ['10.5.1.0/24', { text: 'reservation', paint: mark }, '-'],
      ['10.5.12.0/24', 'lease', { text: '30m0s', paint: mark }],
    ];
    const headers = ['SUBNET', 'TYPE', 'TTL'];

    const withoutMarks = renderColumns(headers, painted).replace(/[<>]/g, '');
    assert.equal(withoutMarks, renderColumns(headers, plain));
  });

  test('paints the padded text, so the padding stays inside the colour', () => {
    const output = renderColumns(['TYPE', 'TTL'], [[{ text: 'lease', paint: mark }, '1s']]);
    assert.equal(output, 'TYPE    TTL\n<lease>   1s\n');
  });

  test('leaves an empty painted cell unpainted', () => {
    const output = renderColumns(['A', 'B', 'C'], [['x', { text: '', paint: mark }, 'y']]);
    assert.equal(output, 'A   B   C\nx       y\n');
  });

  test('accepts plain strings and cells without paint alike', () => {
    const output = renderColumns(['A', 'B'], [[{ text: 'x' }, 'y']]);
    assert.equal(output, 'A   B\nx   y\n');
  });

  test('prints only the headers when there are no rows', () => {
    assert.equal(renderColumns(['SUBNET', 'TTL'], []), 'SUBNET   TTL\n');
  });

  test('prints every row once, in order', () => {
    const rows: Row[] = Array.from({ length: 1000 }, (_, index) => [`10.5.${index}.0/24`, 'x']);
    const lines = renderColumns(['SUBNET', 'T'], rows).trimEnd().split('\n');
    assert.equal(lines.length, 1001);
    assert.equal(lines[1], '10.5.0.0/24     x');
    assert.equal(lines[1000], '10.5.999.0/24   x');
  });
});

describe('columnChunks', () => {
  const rows: Row[] = Array.from({ length: 2500 }, (_, index) => [`10.5.${index}.0/24`, 'x']);

  test('joined, they are the same table, in pieces of 1,000 rows (the first with headers)', () => {
    const chunks = [...columnChunks(['SUBNET', 'T'], rows)];

    assert.equal(chunks.join(''), renderColumns(['SUBNET', 'T'], rows));
    assert.deepEqual(
      chunks.map((chunk) => chunk.split('\n').length - 1),
      [1001, 1000, 500],
    );
  });

  test('without headers the first line is left out and the widths stay', () => {
    const table = renderColumns(['SUBNET', 'T'], rows);
    const headless = [...columnChunks(['SUBNET', 'T'], rows, false)].join('');

    assert.equal(headless, table.slice(table.indexOf('\n') + 1));
  });

  test('no rows and no headers: nothing at all', () => {
    assert.deepEqual([...columnChunks(['SUBNET', 'T'], [], false)], []);
  });
});
