/**
 * Shared benchmark reporting: run tinybench tasks, print ours beside the baseline with the ratio
 * and the target, and write the figures as JSON under bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

export const QUICK = process.argv.includes('--quick');

/** One comparison: our task against its baseline, with the ratio we promise. */
export interface Comparison {
  readonly name: string;
  readonly ours: string;
  readonly baseline: string;
  /** `time`: ours.time / baseline.time must be <= target. `speed`: baseline.time / ours.time must be >= target. */
  readonly kind: 'time' | 'speed';
  /** Omitted for rows shown for information only. */
  readonly target?: number;
}

export interface Row {
  readonly name: string;
  readonly oursOpsPerSec: number;
  readonly baselineOpsPerSec: number;
  readonly ratio: number;
  readonly kind: 'time' | 'speed';
  /** `null` for a row shown for information only. */
  readonly target: number | null;
  /** `null` when the row has no target. */
  readonly meetsTarget: boolean | null;
}

/** Make a tinybench `Bench` sized for full or `--quick` runs. */
export function makeBench(opts: { time?: number; quickTime?: number } = {}): Bench {
  return new Bench({ time: QUICK ? (opts.quickTime ?? 150) : (opts.time ?? 1500), warmupTime: QUICK ? 50 : 300 });
}

/** Mean time per operation of a finished task, in milliseconds. */
export function periodOf(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const r = task?.result as { period?: number } | undefined;
  if (r?.period === undefined || !(r.period > 0)) throw new Error(`benchmark task "${name}" did not complete`);
  return r.period;
}

/** Compute, print and save the comparisons of a finished bench. */
export function report(file: string, bench: Bench, comparisons: Comparison[], extra: Record<string, unknown> = {}): Row[] {
  return reportRows(file, comparisons.map((c) => row(c, periodOf(bench, c.ours), periodOf(bench, c.baseline))), extra);
}

/** A row from two measured periods (ms per op), for benchmarks timed by hand. */
export function row(c: Comparison, oursMs: number, baselineMs: number): Row {
  const ratio = c.kind === 'time' ? oursMs / baselineMs : baselineMs / oursMs;
  return {
    name: c.name,
    oursOpsPerSec: 1000 / oursMs,
    baselineOpsPerSec: 1000 / baselineMs,
    ratio,
    kind: c.kind,
    target: c.target ?? null,
    meetsTarget: c.target === undefined ? null : c.kind === 'time' ? ratio <= c.target : ratio >= c.target,
  };
}

/** Print rows as a table and write `bench/results/<file>.json`. */
export function reportRows(file: string, rows: Row[], extra: Record<string, unknown> = {}): Row[] {
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
  console.table(
    rows.map((r) => ({
      comparison: r.name,
      'ours ops/s': fmt(r.oursOpsPerSec),
      'baseline ops/s': fmt(r.baselineOpsPerSec),
      ratio: r.ratio.toFixed(3),
      target: r.target === null ? 'none (info)' : `${r.kind === 'time' ? '<=' : '>='} ${r.target}`,
      meets: r.meetsTarget === null ? '-' : r.meetsTarget ? 'yes' : 'NO',
    })),
  );
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', `${file}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ benchmark: file, quick: QUICK, node: process.version, date: new Date().toISOString(), rows, ...extra }, null, 2)}\n`);
  console.log(`wrote ${out}`);
  return rows;
}

/**
 * Time two async functions in alternating batches and return mean ms per call for each.
 * On a shared, noisy machine, alternating makes both sides see the same load, so the ratio
 * stays meaningful even when absolute rates swing.
 */
export async function interleaved(
  ours: () => unknown,
  baseline: () => unknown,
  opts: { rounds?: number; batch?: number } = {},
): Promise<{ oursMs: number; baselineMs: number }> {
  const rounds = opts.rounds ?? (QUICK ? 10 : 60);
  const batch = opts.batch ?? 200;
  const run = async (f: () => unknown) => {
    const t = performance.now();
    for (let i = 0; i < batch; i++) await f();
    return performance.now() - t;
  };
  await run(ours);
  await run(baseline); // warm-up
  let a = 0;
  let b = 0;
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      a += await run(ours);
      b += await run(baseline);
    } else {
      b += await run(baseline);
      a += await run(ours);
    }
  }
  return { oursMs: a / (rounds * batch), baselineMs: b / (rounds * batch) };
}

/**
 * Time several async functions in rotating batches (the order shifts by one each round) and return
 * mean ms per call for each, in the order given. {@link interleaved} for more than two sides.
 */
export async function rotated(fns: ReadonlyArray<() => unknown>, opts: { rounds?: number; batch?: number } = {}): Promise<number[]> {
  const rounds = opts.rounds ?? (QUICK ? 10 : 60);
  const batch = opts.batch ?? 200;
  const run = async (f: () => unknown) => {
    const t = performance.now();
    for (let i = 0; i < batch; i++) await f();
    return performance.now() - t;
  };
  for (const f of fns) await run(f); // warm-up
  const total = fns.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < fns.length; k++) {
      const i = (r + k) % fns.length;
      total[i] = (total[i] as number) + (await run(fns[i] as () => unknown));
    }
  }
  return total.map((t) => t / (rounds * batch));
}
