/**
 * Run a command in a private mount namespace after a shell `setup` (as root there) has mounted
 * files over the real ones, so a test can show a process another /etc/machine-id or /sys.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `argv` run by `unshare -m` after `setup`, from the repository root. Skips the test, saying why,
 * where a mount namespace cannot be made (no root, no unshare); fails instead under CI.
 */
export function inMountNamespace(ctx: TestContext, setup: string, argv: readonly string[]): SpawnSyncReturns<string> {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${setup} && exec "$@"`, 'sh', ...argv], { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0 && /Operation not permitted|cannot|No such file|not found/i.test(r.stderr ?? '') && !(r.stdout ?? '').includes('{')) {
    if (process.env.CI) throw new Error(`mount namespace unavailable under CI: ${r.stderr}`);
    ctx.skip(`cannot mount files in a mount namespace here (needs root and unshare): ${String(r.stderr).trim()}`);
  }
  return r;
}
