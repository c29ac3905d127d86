/**
 * `licit log` and `licit report` through the built CLI on a real FileStore directory: the verified
 * log, ERR_AUDIT_TAMPERED (exit 1) after an edit, report tables / JSON / HTML, usage errors (exit 2).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/node/store/file-store.js';
import { Activations, SeatManager } from '../src/core/seats/index.js';
import { recordCreditUsage, recordSeatsChange, withAuditChain } from '../src/core/admin/index.js';
import { licit } from './helpers/cli.js';
import { licenseDir, rewriteRecords, segment } from './helpers/file-store-disk.js';
import { makeVendor, type TestVendor } from './helpers/vendor.js';

const MAR1 = Date.UTC(2025, 2, 1);
const H = 3_600_000;
let root: string;
let dir: string;
let vendor: TestVendor;
let devKey: string;

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
  // A license limited by devices and users only, in the same store.
  vendor = makeVendor();
  devKey = join(root, 'dev.key');
  writeFileSync(devKey, await vendor.issue({ licenseId: 'dev-lic', customer: 'ACME', maxActivations: 5, maxUsers: 2 }));
  t = MAR1 + 6 * H;
  const acts = new Activations(store, { id: 'dev-lic', seats: {}, maxActivations: 5, maxUsers: 2 }, { now: () => t });
  await acts.addUser('ann@example.com'); // users 1
  await acts.activate('ann@example.com', 'laptop'); // activations 1
  t = MAR1 + 12 * H;
  await acts.activate('ann@example.com', 'desktop'); // activations 2
  t = MAR1 + 18 * H;
  await acts.deactivate('ann@example.com', 'desktop'); // activations 1
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  if (vendor !== undefined) rmSync(vendor.dir, { recursive: true, force: true });
});

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
    // Edit bob's event in the log, checksums recomputed: only the hash chain can tell.
    rewriteRecords(segment(licenseDir(copy, 'lic-1')), (recs) =>
      recs.map((r) => ({ seq: r.seq, json: { ...r.json, e: (r.json.e as Array<[number, string, string, string, { user?: string }]>).map((e) => (e[4].user === 'bob@example.com' ? [e[0], e[1], e[2], e[3], { ...e[4], user: 'eve@example.com' }] : e)) } })),
    );
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

describe('licit report: activations and license users', () => {
  it('counts devices and users against the limits of the verified key, in the table, JSON and HTML', () => {
    const args = ['report', '--store', dir, '--license', devKey, '--public-key', vendor.pubPath, '--range', 'day', '--at', '2025-03-01T10:00:00Z', '--verify'];
    const text = licit(args);
    expect(text.code, text.stderr).toBe(0);
    // No seat types: the headline is the activations and users, not "0 of 0".
    expect(text.stdout).not.toMatch(/Available licenses/);
    expect(text.stdout).toMatch(/^Available activations\t4 of 5$/m);
    expect(text.stdout).toMatch(/^Available license users\t1 of 2$/m);
    // activations: 06-12 1, 12-18 2, 18-24 1 of 5 → 24 / 120; users: 06-24 1 of 2 → 18 / 48
    expect(text.stdout).toMatch(/^activations\t5\t1\t4\t20\.0%\t2\t-\t-$/m);
    expect(text.stdout).toMatch(/^users\t2\t1\t1\t37\.5%\t1\t-\t-$/m);
    const j = licit([...args, '--json']).json();
    const report = j.report as { seats: unknown[]; limits: { type: string; licensed: number; available: number; averageUtilisation: number }[] };
    expect(report.seats).toEqual([]);
    expect(report.limits.map((l) => [l.type, l.licensed, l.available])).toEqual([
      ['activations', 5, 4],
      ['users', 2, 1],
    ]);
    expect(report.limits[0]?.averageUtilisation).toBeCloseTo(0.2, 12);
    const html = join(root, 'dev.html');
    expect(licit([...args, '--html', html]).code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Available activations');
    expect(page).toMatch(/<td>activations<\/td><td>5<\/td><td>1<\/td><td>4<\/td><td>20\.0 %<\/td>/);
    expect(page).toMatch(/<td>users<\/td><td>2<\/td><td>1<\/td><td>1<\/td><td>37\.5 %<\/td>/);
    // By id only, the limits are unknown: the rows show what is in use.
    const bare = licit(['report', '--store', dir, '--license-id', 'dev-lic', '--range', 'day', '--at', '2025-03-01T10:00:00Z']);
    expect(bare.stdout).toMatch(/^activations\t-\t1\t-\t-\t2\t-\t-$/m);
    expect(bare.stdout).toMatch(/^Available activations\tno limit known \(1 in use\)$/m);
  });
});

describe('licit log and licit report: no events, no store', () => {
  it('a license with no events: an empty log and an all-zero report, both exit 0', () => {
    const log = licit(['log', '--store', dir, '--license-id', 'quiet']);
    expect([log.code, log.stdout.trim()]).toEqual([0, 'License quiet: no events in this store (a license that never changed, or check --license-id and --store).']);
    expect(licit(['log', '--store', dir, '--license-id', 'quiet', '--json']).json()).toMatchObject({ ok: true, events: [], head: { seq: 0 } });
    const r = licit(['report', '--store', dir, '--license-id', 'quiet', '--range', 'month', '--at', '2025-03-01']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Available licenses\t0 of 0$/m);
    expect(r.stdout).toMatch(/no events in this range either: check --license-id/);
    const withKey = licit(['report', '--store', dir, '--license', devKey, '--public-key', vendor.pubPath, '--range', 'month', '--at', '2025-04-01', '--json']).json();
    expect((withKey.report as { limits: unknown[] }).limits).toEqual([
      { type: 'activations', licensed: 5, inUse: 1, available: 4, averageUtilisation: 0.2, peakInUse: 1 },
      { type: 'users', licensed: 2, inUse: 1, available: 1, averageUtilisation: 0.5, peakInUse: 1 },
    ]);
  });

  it('a store directory that does not exist (or is a file) is ERR_STORE_UNAVAILABLE, and is not created', () => {
    const missing = join(root, 'no-such-store');
    for (const verb of [['log', '--license-id', 'lic-1'], ['report', '--license-id', 'lic-1', '--range', 'day']]) {
      const [name, ...rest] = verb as [string, ...string[]];
      const r = licit([name, '--store', missing, ...rest, '--json']);
      expect([r.code, r.json().error?.code], name).toEqual([1, 'ERR_STORE_UNAVAILABLE']);
      expect(r.json().error?.message).toMatch(/no-such-store does not exist; check --store/);
      const file = licit([name, '--store', devKey, ...rest]);
      expect([file.code, file.stdout], name).toEqual([1, '']);
      expect(file.stderr).toMatch(/ERR_STORE_UNAVAILABLE: --store .*dev\.key is not a directory/);
    }
    expect(existsSync(missing)).toBe(false);
  });
});
