// Reading a subnet.env for `env validate` and `doctor --env`.
import { readFileSync } from 'node:fs';

import { usageError } from './errors.js';
import { readStdin } from './stdin.js';

export const DEFAULT_ENV_PATHS = ['/run/flannel/subnet.env', '/var/run/flannel/subnet.env'];

/** The named file, stdin for `-`, or the first default path that exists. */
export async function readEnvFile(
  arg: string | undefined,
): Promise<{ path: string; text: string }> {
  if (arg === '-') return { path: '-', text: await readStdin() };
  if (arg === '') throw usageError('the subnet.env path is empty; expected a file, or - for stdin');

  const candidates = arg === undefined ? DEFAULT_ENV_PATHS : [arg];
  for (const path of candidates) {
    try {
      return { path, text: readFileSync(path, 'utf8') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EISDIR') throw usageError(`${path} is a directory; expected a subnet.env file`);
      if (code !== 'ENOENT') {
        throw usageError(`cannot read ${path}: ${code ?? (error as Error).message}`);
      }
    }
  }

  throw usageError(
    `no subnet.env at ${candidates.join(' or ')}`,
    'flanneld writes it once it holds a lease: is flanneld running, still waiting for etcd, ' +
      'or started with another --subnet-file?',
  );
}
