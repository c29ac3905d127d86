/**
 * The Windows side of the addon compiles. This machine runs Linux only, so the Windows code
 * (GetSystemFirmwareTable, GetAdaptersAddresses, LockFileEx, CPUID through <intrin.h>) is
 * compiled here with the mingw-w64 cross compiler, every source file, -Wall -Wextra -Werror,
 * against the same Node-API headers: the `_WIN32` branches are type-checked and code-generated,
 * not only read. (Linking needs node.lib and running needs Windows; neither is available here.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CXX = 'x86_64-w64-mingw32-g++';
const haveCxx = spawnSync(CXX, ['--version']).status === 0;
// Node's own headers (node_api.h, uv.h) sit beside the node binary in a standard install.
const NODE_INCLUDE = join(dirname(process.execPath), '..', 'include', 'node');
const haveHeaders = existsSync(join(NODE_INCLUDE, 'node_api.h'));
const skip = !haveCxx ? `${CXX} is missing (apt-get install g++-mingw-w64-x86-64-posix)` : !haveHeaders ? `Node headers not found at ${NODE_INCLUDE}` : '';

describe('the addon for Windows (cross-compiled with mingw-w64)', () => {
  it.skipIf(skip !== '')(`every native source compiles for x86_64 Windows without a warning${skip === '' ? '' : ` (skipped: ${skip})`}`, () => {
    const out = mkdtempSync(join(tmpdir(), 'licit-win-'));
    try {
      const sources = readdirSync(join(ROOT, 'native/src')).filter((f) => f.endsWith('.cc'));
      expect(sources).toContain('host_win.cc');
      for (const f of sources) {
        const r = spawnSync(
          CXX,
          [
            '-std=c++17', '-c', '-Wall', '-Wextra', '-Werror',
            // binding.gyp's defines for every platform and for Windows
            '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-D_WIN32_WINNT=0x0600',
            '-I', join(ROOT, 'native/include'), '-I', join(ROOT, 'node_modules/node-addon-api'), '-I', NODE_INCLUDE,
            '-o', join(out, `${f}.obj`), join(ROOT, 'native/src', f),
          ],
          { encoding: 'utf8' },
        );
        expect(r.status, `${f}:\n${r.stderr}`).toBe(0);
      }
      // The Windows identity code really was compiled (not an empty #ifdef): its object calls the APIs.
      const nm = spawnSync('x86_64-w64-mingw32-nm', [join(out, 'host_win.cc.obj')], { encoding: 'utf8' });
      for (const api of ['GetSystemFirmwareTable', 'GetAdaptersAddresses']) expect(nm.stdout, api).toContain(api);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
