// `npm run prebuilds`: compile the addon with node-gyp and copy it where node-gyp-build looks for
// a prebuilt binary, prebuilds/<platform>-<arch>/node.napi[.glibc|.musl].node, then load the copy
// in a fresh process (PREBUILDS_ONLY, so build/ is not what loads). The package ships prebuilds/
// and has no install script: where a prebuild fits, no one needs a compiler.
//   --if-needed  skip the compile when build/Release is newer than every native source
//   --optional   without a toolchain, say so and exit 0 (licit falls back to JavaScript)
//   --cross      then also build linux-arm64 and win32-x64 with cross compilers (cross-prebuilds.mjs)
// The copy is tagged with this machine's libc; a musl prebuild has to be built on a musl system
// (Alpine): musl-tools on Debian has no C++ standard library to link the addon against.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const optional = args.includes('--optional');
const ifNeeded = args.includes('--if-needed');
const built = join(root, 'build', 'Release', 'licit_native.node');

function libc() {
  if (process.platform !== 'linux') return '';
  // glibc reports its version in the process report; musl has none.
  const header = process.report?.getReport?.().header;
  return header?.glibcVersionRuntime === undefined ? 'musl' : 'glibc';
}

function newestSource() {
  const files = ['binding.gyp', ...['native/src', 'native/include'].flatMap((d) => readdirSync(join(root, d)).map((f) => `${d}/${f}`))];
  return Math.max(...files.map((f) => statSync(join(root, f)).mtimeMs));
}

function fail(message) {
  if (!optional) {
    console.error(`prebuilds: ${message}`);
    process.exit(1);
  }
  console.warn(`prebuilds: ${message}\nprebuilds: skipped (--optional); licit will use its JavaScript fallback (fingerprint source "fallback").`);
  process.exit(0);
}

if (!(ifNeeded && existsSync(built) && statSync(built).mtimeMs >= newestSource())) {
  // npm puts its bundled node-gyp on PATH for scripts and names it in npm_config_node_gyp.
  const gyp = process.env.npm_config_node_gyp;
  const [cmd, cmdArgs] = gyp !== undefined && gyp !== '' ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.error !== undefined) fail(`could not run node-gyp (${r.error.message}); run this through npm (npm run prebuilds), which provides it`);
  if (r.status !== 0) fail('node-gyp rebuild failed: the addon needs python3, make and a C++17 compiler');
}

const tag = libc();
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const out = join(dir, `node.napi${tag === '' ? '' : `.${tag}`}.node`);
mkdirSync(dir, { recursive: true });
copyFileSync(built, out);

// The copy must be what node-gyp-build picks for this machine, and it must load.
const check = spawnSync(
  process.execPath,
  ['-e', `const p = require('node-gyp-build').path(${JSON.stringify(root)}); const a = require(p); if (typeof a.hostIdentity !== 'function') throw new Error('not the licit addon'); console.log(p)`],
  { cwd: root, env: { ...process.env, PREBUILDS_ONLY: '1' }, encoding: 'utf8' },
);
if (check.status !== 0) fail(`the prebuild ${out} does not load: ${check.stderr.trim()}`);
if (check.stdout.trim() !== out) fail(`node-gyp-build picks ${check.stdout.trim()} instead of ${out}`);
console.log(`prebuilds: ${out.slice(root.length + 1)} (${statSync(out).size} bytes)`);

if (args.includes('--cross')) {
  const cross = spawnSync(process.execPath, [join(root, 'scripts', 'cross-prebuilds.mjs'), ...(optional ? ['--optional'] : [])], { stdio: 'inherit' });
  if (cross.status !== 0) process.exit(cross.status ?? 1);
}
