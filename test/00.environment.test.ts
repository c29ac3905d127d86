/**
 * What the rest of the suite relies on. Locally a missing tool only skips (with a message) the
 * tests that need it; under CI (CI=true) it fails here, so nothing that CI is meant to prove can
 * pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/node/fingerprint/native.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('test environment', () => {
  it('the native addon is built (npm test builds it; npm run prebuilds)', (ctx) => {
    if (loadNative() === undefined) {
      const msg = 'the native addon did not load: tests of the addon skip (run `npm run build:native` with a C++ toolchain)';
      if (CI) expect.fail(msg);
      return ctx.skip(msg);
    }
    expect(loadNative()).toBeDefined();
  });

  it('dist/ is built (the CLI tests spawn bin/licit.cjs over it)', () => {
    expect(existsSync(new URL('../dist/cli/main.js', import.meta.url)), 'run `npm run build` (npm test does it first)').toBe(true);
  });

  it('the Debian packages in .ci/apt-packages.txt are installed', (ctx) => {
    const tools: Record<string, string> = { clang: 'clang', 'libclang-rt-14-dev': 'clang', cmake: 'cmake', dmidecode: 'dmidecode', iproute2: 'ip', chromium: 'chromium', 'g++-mingw-w64-x86-64-posix': 'x86_64-w64-mingw32-g++', 'g++-aarch64-linux-gnu': 'aarch64-linux-gnu-g++', 'qemu-user': 'qemu-aarch64', wine64: '/usr/lib/wine/wine64', systemd: 'systemd-analyze' };
    const listed = readFileSync(new URL('../.ci/apt-packages.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const missing = listed.filter((p) => !has(tools[p] ?? p));
    if (missing.length > 0) {
      const msg = `missing: ${missing.join(', ')} (apt-get install ${missing.join(' ')}); the tests that need them skip`;
      if (CI) expect.fail(msg);
      return ctx.skip(msg);
    }
    expect(missing).toEqual([]);
  });
});
