// The copy of the field cases in test/fixtures/cases must match the shared originals, where a
// checkout has them beside it (CI does), so a case that changes upstream cannot go stale here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { repoRoot } from './cli.js';

const fixtures = path.join(repoRoot(), 'test', 'fixtures', 'cases');
const shared = path.join(repoRoot(), '..', 'shared', 'cases');

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => fs.statSync(path.join(dir, name)).isFile())
    .sort();
}

test('test/fixtures/cases is a byte-exact copy of ../shared/cases', (context) => {
  if (!fs.existsSync(shared)) {
    context.skip(`no ${shared} beside this checkout`);
    return;
  }

  assert.deepEqual(filesUnder(fixtures), filesUnder(shared));
  for (const name of filesUnder(shared)) {
    const copy = fs.readFileSync(path.join(fixtures, name));
    assert.ok(copy.equals(fs.readFileSync(path.join(shared, name))), `${name} differs`);
  }
});
