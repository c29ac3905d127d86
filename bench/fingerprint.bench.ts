/**
 * Hardware fingerprint against systeminformation reading the same facts (system UUID, baseboard,
 * CPU, network interfaces) in the same run, and against reading the same files directly.
 *  - in process, cold (facts read again every call): target >= 100x faster than systeminformation
 *  - in process, cached (the per-process cache): target >= 100x faster than systeminformation
 *  - a cold `licit fingerprint --json` process against a bare `node -e 0`: target <= 1.3x
 * Run: node --import tsx bench/fingerprint.bench.ts [--quick]   (needs `npm run build` for the CLI)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import si from 'systeminformation';
import { clearFingerprintCache, getFingerprint } from '../src/node/fingerprint/index.js';
import { QUICK, reportRows, row, type Row } from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SALT = 'bench.salt';

/** Mean ms per call of `fn` over `n` calls (after one warm-up call). */
async function timeIt(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

/** The same facts by direct file reads: the floor on Linux. */
function directReads(): number {
  let n = 0;
  const read = (p: string) => {
    try {
      n += readFileSync(p, 'utf8').length;
    } catch {
      // absent here
    }
  };
  for (const f of ['product_uuid', 'product_serial', 'board_serial', 'board_vendor', 'board_name', 'chassis_serial']) read(`/sys/class/dmi/id/${f}`);
  read('/etc/machine-id');
  read('/proc/cpuinfo');
  for (const i of readdirSync('/sys/class/net')) {
    read(`/sys/class/net/${i}/address`);
    read(`/sys/class/net/${i}/type`);
    read(`/sys/class/net/${i}/addr_assign_type`);
    existsSync(`/sys/class/net/${i}/device`);
  }
  return n;
}

async function systeminformation(): Promise<number> {
  const [uuid, board, cpu, nics] = await Promise.all([si.uuid(), si.baseboard(), si.cpu(), si.networkInterfaces()]);
  return JSON.stringify([uuid, board, cpu, nics]).length;
}

const siRuns = QUICK ? 3 : 10;
const siMs = await timeIt(siRuns, systeminformation);

const coldMs = await timeIt(QUICK ? 200 : 2000, async () => {
  clearFingerprintCache();
  return getFingerprint({ salt: SALT });
});
const cachedMs = await timeIt(QUICK ? 20_000 : 200_000, () => getFingerprint({ salt: SALT }));
const coldFallbackMs = await timeIt(QUICK ? 200 : 2000, async () => {
  clearFingerprintCache();
  return getFingerprint({ salt: SALT, fallback: true });
});
const directMs = process.platform === 'linux' ? await timeIt(QUICK ? 200 : 2000, directReads) : NaN;

// Cold processes, interleaved so both sides see the same machine load; medians.
const cli = join(ROOT, 'bin/licit.cjs');
const haveDist = existsSync(join(ROOT, 'dist/cli/main.js'));
const procRuns = QUICK ? 9 : 41;
const bare: number[] = [];
const ours: number[] = [];
function spawnMs(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}
if (haveDist) {
  spawnMs(['-e', '0']);
  spawnMs([cli, 'fingerprint', '--json', '--salt', SALT]);
  for (let i = 0; i < procRuns; i++) {
    bare.push(spawnMs(['-e', '0']));
    ours.push(spawnMs([cli, 'fingerprint', '--json', '--salt', SALT]));
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

const rows: Row[] = [
  row({ name: 'fingerprint in process, cold vs systeminformation', ours: 'getFingerprint (facts re-read)', baseline: 'systeminformation uuid+baseboard+cpu+networkInterfaces', kind: 'speed', target: 100 }, coldMs, siMs),
  row({ name: 'fingerprint in process, cached vs systeminformation', ours: 'getFingerprint (cached)', baseline: 'systeminformation', kind: 'speed', target: 100 }, cachedMs, siMs),
  row({ name: 'fingerprint in process, JS fallback cold vs systeminformation', ours: 'getFingerprint fallback', baseline: 'systeminformation', kind: 'speed', target: 100 }, coldFallbackMs, siMs),
];
if (!Number.isNaN(directMs)) rows.push(row({ name: 'fingerprint in process, cold vs direct file reads (floor)', ours: 'getFingerprint', baseline: 'readFileSync of the same files', kind: 'time', target: 3 }, coldMs, directMs));
if (haveDist) rows.push(row({ name: 'cold `licit fingerprint --json` process vs `node -e 0`', ours: 'licit fingerprint', baseline: 'node -e 0', kind: 'time', target: 1.3 }, median(ours), median(bare)));
else console.log('dist/ is missing: run `npm run build` to include the cold-process comparison');

console.log(`ms per call: systeminformation ${siMs.toFixed(2)}, ours cold ${coldMs.toFixed(4)}, cached ${cachedMs.toFixed(6)}, fallback cold ${coldFallbackMs.toFixed(4)}, direct reads ${directMs.toFixed(4)}`);
if (haveDist) console.log(`process medians (${procRuns} runs each): node -e 0 ${median(bare).toFixed(1)} ms, licit fingerprint ${median(ours).toFixed(1)} ms`);
reportRows('fingerprint', rows, {
  msPerCall: { systeminformation: siMs, cold: coldMs, cached: cachedMs, fallbackCold: coldFallbackMs, directReads: directMs },
  processMs: haveDist ? { bareNodeMedian: median(bare), fingerprintMedian: median(ours), runs: procRuns } : null,
});
