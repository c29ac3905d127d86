/**
 * Cross-process locks (src/node/fs/lock.ts), both sources, with real processes killed by SIGKILL
 * while they hold the lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireLock, withLock } from '../src/node/fs/lock.js';
import { isLicenseError } from '../src/core/errors.js';
import { loadNative } from '../src/node/fingerprint/native.js';

const LOCK_TS = fileURLToPath(new URL('../src/node/fs/lock.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Start a process that takes the lock, says "locked <source>" and then holds it forever. */
function holder(path: string, fallback: boolean): Promise<{ child: ChildProcess; source: string }> {
  const code = `const { acquireLock } = await import(${JSON.stringify(LOCK_TS)});
const l = await acquireLock(${JSON.stringify(path)}, { timeoutMs: 30000 });
process.stdout.write('locked ' + l.source + '\\n');
setInterval(() => {}, 1e6);`;
  const env = { ...process.env };
  if (fallback) env.LICIT_NO_NATIVE = '1';
  else delete env.LICIT_NO_NATIVE;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /locked (\w+)/.exec(out);
      if (m) resolve({ child, source: m[1]! });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (c) => reject(new Error(`holder exited ${c}: ${err}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'licit-lock-'));
const hasNative = loadNative() !== undefined;

type Src = 'flock' | 'lockfile';
const combos: Array<{ holderSrc: Src; waiterSrc: Src }> = [
  { holderSrc: 'flock', waiterSrc: 'flock' },
  { holderSrc: 'lockfile', waiterSrc: 'lockfile' },
  { holderSrc: 'flock', waiterSrc: 'lockfile' },
  { holderSrc: 'lockfile', waiterSrc: 'flock' },
];

describe('acquireLock across processes', () => {
  it.runIf(hasNative)('uses flock when the addon loads (native build present)', async () => {
    const l = await acquireLock(join(tmp(), 'a.lock'));
    expect(l.source).toBe('flock');
    await l.release();
  });

  for (const { holderSrc, waiterSrc } of combos) {
    const needsNative = holderSrc === 'flock' || waiterSrc === 'flock';
    it.runIf(!needsNative || hasNative)(`${holderSrc} holder killed by SIGKILL frees the lock for a ${waiterSrc} waiter`, async () => {
      const path = join(tmp(), 'ledger.lock');
      const h = await holder(path, holderSrc === 'lockfile');
      expect(h.source).toBe(holderSrc);

      // While the holder lives, the waiter times out with ERR_LEDGER_LOCKED naming the holder.
      const err = await acquireLock(path, { timeoutMs: 300, source: waiterSrc }).catch((e: unknown) => e);
      expect(isLicenseError(err, 'ERR_LEDGER_LOCKED')).toBe(true);
      expect((err as Error).message).toContain(`pid ${h.child.pid}`);

      await killed(h.child);
      const l = await acquireLock(path, { timeoutMs: 10_000, source: waiterSrc });
      expect(l.source).toBe(waiterSrc);
      expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
      await l.release();
    });
  }

  it('a lock-file holder whose pid was reused by another process counts as stale', async () => {
    const path = join(tmp(), 'reused.lock');
    // pid 1 is alive but its /proc start tick is not the one recorded: the pid was reused.
    writeFileSync(path, JSON.stringify({ pid: 1, host: (await import('node:os')).hostname(), start: 0, pst: 'not-a-tick', token: 'x' }));
    const l = await acquireLock(path, { timeoutMs: 2000, source: 'lockfile' });
    await l.release();
    expect(existsSync(path)).toBe(false);
  });

  it('a lock-file holder on another host is never taken over', async () => {
    const path = join(tmp(), 'remote.lock');
    writeFileSync(path, JSON.stringify({ pid: 999999, host: 'some-other-host', start: 0, pst: '', token: 'x' }));
    const err = await acquireLock(path, { timeoutMs: 200, source: 'lockfile' }).catch((e: unknown) => e);
    expect(isLicenseError(err, 'ERR_LEDGER_LOCKED')).toBe(true);
    expect((err as Error).message).toContain('some-other-host');
  });
});

describe('acquireLock inside one process', () => {
  for (const source of ['flock', 'lockfile'] as const) {
    it.runIf(source === 'lockfile' || hasNative)(`two acquisitions exclude each other (${source})`, async () => {
      const path = join(tmp(), 'in.lock');
      const first = await acquireLock(path, { source });
      const err = await acquireLock(path, { source, timeoutMs: 100 }).catch((e: unknown) => e);
      expect(isLicenseError(err, 'ERR_LEDGER_LOCKED')).toBe(true);
      const order: string[] = [];
      const second = acquireLock(path, { source, timeoutMs: 5000 }).then((l) => {
        order.push('second');
        return l;
      });
      await new Promise((r) => setTimeout(r, 50));
      order.push('release-first');
      await first.release();
      await (await second).release();
      expect(order).toEqual(['release-first', 'second']);
      await first.release(); // a second release is a no-op
    });

    it.runIf(source === 'lockfile' || hasNative)(`withLock serialises read-modify-write across processes (${source})`, async () => {
      const dir = tmp();
      const path = join(dir, 'counter.lock');
      const counter = join(dir, 'counter');
      writeFileSync(counter, '0');
      const code = `const { withLock } = await import(${JSON.stringify(LOCK_TS)});
const fs = await import('node:fs/promises');
for (let i = 0; i < 15; i++) await withLock(${JSON.stringify(path)}, async () => {
  const n = Number(await fs.readFile(${JSON.stringify(counter)}, 'utf8'));
  await new Promise((r) => setImmediate(r));
  await fs.writeFile(${JSON.stringify(counter)}, String(n + 1));
}, { timeoutMs: 30000 });`;
      const env = { ...process.env };
      if (source === 'lockfile') env.LICIT_NO_NATIVE = '1';
      const runs = [0, 1, 2].map(
        () =>
          new Promise<number | null>((resolve) => {
            const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env, stdio: 'inherit' });
            children.push(c);
            c.on('exit', resolve);
          }),
      );
      // This process takes part too.
      for (let i = 0; i < 15; i++) {
        await withLock(path, async () => {
          const n = Number(readFileSync(counter, 'utf8'));
          await new Promise((r) => setImmediate(r));
          writeFileSync(counter, String(n + 1));
        }, { source, timeoutMs: 30_000 });
      }
      expect(await Promise.all(runs)).toEqual([0, 0, 0]);
      expect(readFileSync(counter, 'utf8')).toBe('60');
    });
  }

  it('a lock file whose release failed to read or remove it (EIO) is not left locked against this process (lockfile)', async () => {
    // A failed read or unlink of the lock file while releasing used to leave it holding this
    // process's identity: every later acquisition here (a FileStore transaction, a new FileStore)
    // waited its whole timeout and failed with ERR_LEDGER_LOCKED naming this very process.
    const eio = () => Object.assign(new Error('EIO: i/o error, injected'), { code: 'EIO' });
    for (const fail of ['readFile', 'unlink'] as const) {
      const path = join(tmp(), `${fail}.lock`);
      const first = await acquireLock(path, { source: 'lockfile' });
      const spy = vi.spyOn(fsp, fail).mockRejectedValueOnce(eio());
      await first.release();
      spy.mockRestore();
      const again = await acquireLock(path, { source: 'lockfile', timeoutMs: 300 }).catch((e: unknown) => e);
      expect(isLicenseError(again), `${fail}: ${String(again)}`).toBe(false);
      // ...and it still excludes: the lock taken over is held.
      const err = await acquireLock(path, { source: 'lockfile', timeoutMs: 100 }).catch((e: unknown) => e);
      expect(isLicenseError(err, 'ERR_LEDGER_LOCKED'), fail).toBe(true);
      await (again as Awaited<ReturnType<typeof acquireLock>>).release();
      expect(existsSync(path), fail).toBe(false);
    }
  });

  it('withLock releases when fn throws, and rejects bad timeouts as usage errors', async () => {
    const path = join(tmp(), 'w.lock');
    await expect(withLock(path, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    const l = await acquireLock(path, { timeoutMs: 100 });
    await l.release();
    await expect(acquireLock(path, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});

describe('makeDirectory', () => {
  it('makes missing parents, accepts an existing directory, and fails (never spins) where mkdir cannot succeed', async () => {
    const { makeDirectory } = await import('../src/node/fs/make-dir.js');
    const root = mkdtempSync(join(tmpdir(), 'licit-mkdir-'));
    await makeDirectory(join(root, 'a', 'b', 'c'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
    await makeDirectory(join(root, 'a', 'b', 'c')); // again: nothing to do
    writeFileSync(join(root, 'file'), 'x');
    await expect(makeDirectory(join(root, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    // Node's recursive mkdir loops forever here; ours reports the system's answer.
    if (statSync('/proc', { throwIfNoEntry: false })?.isDirectory()) await expect(makeDirectory('/proc/licit-no-such/dir')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
