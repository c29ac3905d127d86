/**
 * cmake-js builds the same addon from CMakeLists.txt as node-gyp does from binding.gyp: the test
 * runs `cmake-js compile` (Node-API headers from the node-api-headers package, no download) into a
 * temporary directory and loads the result through licit's own loader (LICIT_NATIVE_PATH), which
 * must then give a native fingerprint equal to the one the node-gyp build gives.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const out = mkdtempSync(join(tmpdir(), 'licit-58-cmake-js-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const CMAKE_JS = join(ROOT, 'node_modules', 'cmake-js', 'bin', 'cmake-js');

const haveCmake = spawnSync('cmake', ['--version']).status === 0;
const haveCxx = spawnSync('c++', ['--version']).status === 0;

function fingerprintWith(addon: string): { source: string; fingerprint: string } {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(ROOT, 'dist/node/index.js'))}); const fp = await m.getFingerprint({ salt: 'com.example.cmake' }); console.log(JSON.stringify({ source: fp.source, fingerprint: fp.toString(), error: m.nativeLoadError() ?? null }))`],
    { encoding: 'utf8', env: { ...process.env, LICIT_NO_NATIVE: '', LICIT_NATIVE_PATH: addon, PREBUILDS_ONLY: '1' } },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim());
}

describe('cmake-js', () => {
  it('compiles the addon from CMakeLists.txt, and licit loads it with the same fingerprint as the node-gyp build', { timeout: 240_000 }, (ctx) => {
    const why = !haveCmake ? 'cmake is missing (apt-get install cmake)' : !haveCxx ? 'no C++ compiler' : !existsSync(CMAKE_JS) ? 'cmake-js is not installed (npm install)' : '';
    if (why !== '') {
      if (CI) throw new Error(`${why}: CI must have it`);
      return ctx.skip(why);
    }
    const r = spawnSync(process.execPath, [CMAKE_JS, 'compile', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 200_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const built = join(out, 'Release', 'licit_native.node');
    expect(existsSync(built)).toBe(true);
    const addon = createRequire(import.meta.url)(built) as { abiVersion: number };
    expect(addon.abiVersion).toBe(2);
    const viaCmake = fingerprintWith(built);
    expect(viaCmake.source).toBe('native');
    const gyp = join(ROOT, 'build/Release/licit_native.node');
    if (existsSync(gyp)) expect(viaCmake.fingerprint).toBe(fingerprintWith(gyp).fingerprint);
  });
});
