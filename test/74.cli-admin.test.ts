/**
 * `licit log` and `licit report` through the built CLI on a real FileStore directory: the verified
 * log, ERR_AUDIT_TAMPERED (exit 1) after an edit, report tables / JSON / HTML, usage errors (exit 2).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/node/file-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { recordCreditUsage, recordSeatsChange, withAuditChain } from '../src/core/admin/index.js';
import { licit } from './helpers/cli.js';

const MAR1 = Date.UTC(2025, 2, 1);
const H = 3_600_000;
let root: string;
let dir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'licit-cli-admin-'));
  dir = join(root, 'store');
  let t = MAR1 + 6 * H;
  const store = withAuditChain(new FileStore(dir));
  const seats = new SeatManager(store, { id: 'lic-1', seats: { basic: 4 } }, { now: () => t });
  await seats.assign('ann@example.com', 'basic');
  t += 6 * H;
  await seats.assign('bob@example.com', 'basic');
  await recordSeatsChange(store, 'lic-1', { type: 'basic', from: 4, to: 8, at: t, source: 'auto' });
  await recordCreditUsage(store, 'lic-1', { amount: 25, at: t });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('licit log', () => {
  it('prints the verified log with its head, as text and JSON', () => {
    const text = licit(['log', '--store', dir, '--license-id', 'lic-1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^1\t2025-03-01T06:00:00.000Z\tapp\tseat.assigned\t\{"user":"ann@example.com"/m);
    expect(text.stdout).toMatch(/4 events, hash chain verified; head 4:[0-9a-f]{64}/);
    const j = licit(['log', '--store', dir, '--license-id', 'lic-1', '--json']).json();
    expect(j.ok).toBe(true);
    const events = j.events as { seq: number; hash: string; details: Record<string, unknown> }[];
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[0]?.details['#chain']).toBeUndefined();
    const head = j.head as { seq: number; hash: string };
    expect(head.hash).toBe(events[3]?.hash);
    // The head given back as an anchor verifies; a wrong one does not.
    expect(licit(['log', '--store', dir, '--license-id', 'lic-1', '--anchor', `${head.seq}:${head.hash}`]).code).toBe(0);
    const wrong = licit(['log', '--store', dir, '--license-id', 'lic-1', '--anchor', `2:${'0'.repeat(64)}`, '--json']);
    expect([wrong.code, wrong.json().error?.code]).toEqual([1, 'ERR_AUDIT_TAMPERED']);
  });

  it('fails with ERR_AUDIT_TAMPERED (exit 1) naming the edited event; usage errors exit 2', () => {
    const copy = join(root, 'edited');
    cpSync(dir, copy, { recursive: true });
    const f = join(copy, 'l-lic-1.events.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').replace('bob@example.com', 'eve@example.com'));
    const r = licit(['log', '--store', copy, '--license-id', 'lic-1', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'ERR_AUDIT_TAMPERED', details: { seq: 2 } });
    const t = licit(['log', '--store', copy, '--license-id', 'lic-1']);
    expect(t.stderr).toMatch(/ERR_AUDIT_TAMPERED: .*event 2/);
    expect(licit(['log', '--store', dir]).code).toBe(2);
    expect(licit(['log', '--store', dir, '--license-id', 'lic-1', '--anchor', 'nope']).code).toBe(2);
  });
});

describe('licit report', () => {
  it('prints a table, JSON, and writes a self-contained HTML page', () => {
    const args = ['report', '--store', dir, '--license-id', 'lic-1', '--range', 'day', '--at', '2025-03-01T10:00:00Z', '--verify'];
    const text = licit(args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Available licenses\t6 of 8/);
    expect(text.stdout).toMatch(/Licenses added\t4/);
    expect(text.stdout).toMatch(/Credits consumed\t25/);
    expect(text.stdout).toMatch(/^basic\t8\t2\t6\t/m);
    const j = licit([...args, '--json']).json();
    const report = j.report as { seats: { averageUtilisation: number }[]; topUps: { automatic: number }; series: unknown[] };
    // basic: 06-12 1 of 4, 12-24 2 of 8 → (6 + 24) / (24 + 24 + 96)
    expect(report.seats[0]?.averageUtilisation).toBeCloseTo(30 / 144, 12);
    expect(report.topUps.automatic).toBe(1);
    expect(report.series).toHaveLength(24);
    const html = join(root, 'report.html');
    const h = licit([...args, '--html', html, '--json']).json();
    expect(h.html).toBe(html);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<svg');
    expect(page).toContain("default-src 'none'");
    expect(page).not.toMatch(/<script|https?:\/\//);
    const custom = licit(['report', '--store', dir, '--license-id', 'lic-1', '--range', 'custom', '--from', '2025-02-20', '--to', '2025-03-10', '--json']).json();
    expect((custom.report as { range: { unit: string } }).range.unit).toBe('day');
  });

  it('refuses bad ranges and flags with exit 2', () => {
    const base = ['report', '--store', dir, '--license-id', 'lic-1'];
    for (const extra of [['--range', 'year'], ['--range', 'custom', '--from', '2025-03-02'], ['--range', 'custom', '--from', '2025-03-02', '--to', '2025-03-01'], ['--range', 'day', '--from', '2025-03-01'], ['--range', 'day', '--at', 'tomorrow'], []]) {
      const r = licit([...base, ...extra, '--json']);
      expect([r.code, r.json().error?.code], extra.join(' ')).toEqual([2, 'ERR_USAGE']);
    }
    expect(licit(['report', '--store', dir, '--range', 'day']).code).toBe(2);
  });
});
