// A plain column printer, linear in rows (cli-table3 is quadratic: 10,000 rows took seconds).
// Cells are measured before colouring, so escape codes never skew the widths.
import { printable } from './printable.js';

export interface Cell {
  readonly text: string;
  readonly paint?: (text: string) => string;
}

export type Row = ReadonlyArray<Cell | string>;

const GAP = '   ';

export function renderColumns(headers: readonly string[], rows: readonly Row[]): string {
  return [...columnChunks(headers, rows)].join('');
}

// A table of 65,536 rows is ~7 MB of text: written in pieces, it is never one string.
const ROWS_PER_CHUNK = 1000;

/** The table of renderColumns in pieces of ROWS_PER_CHUNK rows, the first with the headers. */
export function* columnChunks(
  headers: readonly string[],
  rows: readonly Row[],
  withHeaders = true,
): Generator<string> {
  const widths = headers.map((header) => header.length);
  for (const row of rows) {
    row.forEach((cell, index) => {
      const length = textOf(cell).length;
      if (length > widths[index]) widths[index] = length;
    });
  }

  let chunk = withHeaders ? `${formatLine(headers, widths)}\n` : '';
  for (let index = 0; index < rows.length; index++) {
    chunk += `${formatLine(rows[index], widths)}\n`;
    if ((index + 1) % ROWS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }

  if (chunk !== '') yield chunk;
}

function formatLine(cells: ReadonlyArray<Cell | string>, widths: number[]): string {
  const last = cells.length - 1;
  let line = '';
  cells.forEach((cell, index) => {
    const text = textOf(cell);
    const padded = index === last ? text : text.padEnd(widths[index]);
    const paint = typeof cell === 'string' ? undefined : cell.paint;
    line += (index === 0 ? '' : GAP) + (paint && text !== '' ? paint(padded) : padded);
  });
  return line.trimEnd();
}

// Cells hold data from etcd, which must not reach the terminal as control characters.
function textOf(cell: Cell | string): string {
  return printable(typeof cell === 'string' ? cell : cell.text);
}
