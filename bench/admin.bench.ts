/**
 * Administration costs, each beside the floor of touching the same data:
 * - a month's report over 100 000 audit events (`buildReport`) against a bare loop that parses
 *   every event's time and sums its seat deltas per type, the least any report must do;
 * - verifying the hash chain of the same 100 000 events (`verifyAuditLog`) against hashing each
 *   event's `JSON.stringify` once with SHA-256 (no canonical ordering, no link checks);
 * - a seat assignment through `withAuditChain(MemoryStore)` against the bare MemoryStore (what
 *   chaining adds to every write: one head read, one hash, one head write).
 *
 * Run: `node --import tsx bench/admin.bench.ts [--quick]` (quick: 20 000 events, fewer rounds).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import type { AuditEvent } from '../src/core/store/store.js';
import { buildReport, genesisHash, linkEvent, verifyAuditLog, withAuditChain } from '../src/core/admin/index.js';
import { QUICK, interleaved, reportRows, row, type Row } from './lib/report.js';

const N = QUICK ? 20_000 : 100_000;
const MONTH = Date.UTC(2027, 2, 1);
const SPAN = 31 * 86_400_000;
const TYPES = ['basic', 'pro', 'enterprise'];

/** A chained, plausible history: assigns and releases over three types, a top-up now and then. */
function history(n: number): { events: AuditEvent[]; head: { seq: number; hash: string } } {
  const events: AuditEvent[] = [];
  const inUse = [0, 0, 0];
  let prev = genesisHash('bench');
  for (let seq = 1; seq <= n; seq++) {
    const k = seq % 3;
    const type = TYPES[k] as string;
    const at = new Date(MONTH + Math.floor((seq / n) * SPAN)).toISOString();
    let kind: string;
    let details: Record<string, string | number>;
    if (seq % 500 === 0) {
      kind = 'seats.changed';
      details = { type, from: 1000, to: 1000, licensed: 1000, source: 'auto' };
    } else if ((inUse[k] as number) > 0 && seq % 2 === 0) {
      inUse[k] = (inUse[k] as number) - 1;
      kind = 'seat.released';
      details = { user: `u${seq}`, type, inUse: inUse[k] as number };
    } else {
      inUse[k] = (inUse[k] as number) + 1;
      kind = 'seat.assigned';
      details = { user: `u${seq}@example.com`, type, inUse: inUse[k] as number, licensed: 1000 };
    }
    const l = linkEvent('bench', seq, { at, actor: 'app', kind, details }, prev);
    events.push({ licenseId: 'bench', seq, at, actor: 'app', kind, details: l.details });
    prev = l.hash;
  }
  return { events, head: { seq: n, hash: prev } };
}

const { events, head } = history(N);
const rows: Row[] = [];
let sink = 0;

// Report vs a bare summing loop.
{
  const bare = () => {
    const sums = new Map<string, number>();
    for (const e of events) {
      const t = Date.parse(e.at);
      if (t < MONTH) continue;
      const type = e.details.type as string;
      const d = e.kind === 'seat.assigned' ? 1 : e.kind === 'seat.released' ? -1 : 0;
      sums.set(type, (sums.get(type) ?? 0) + d);
    }
    sink += sums.size;
  };
  const ours = () => {
    sink += buildReport('bench', events, { kind: 'month', at: MONTH }, { now: MONTH + SPAN + 1 }).seats.length;
  };
  const t = await interleaved(ours, bare, { rounds: QUICK ? 4 : 12, batch: 1 });
  rows.push(row({ name: `report over ${N.toLocaleString('en-US')} events vs bare summing loop`, ours: '', baseline: '', kind: 'time', target: 4 }, t.oursMs, t.baselineMs));
  console.log(`report: ${t.oursMs.toFixed(1)} ms (${Math.round((N / t.oursMs) * 1000).toLocaleString('en-US')} events/s); bare loop ${t.baselineMs.toFixed(1)} ms`);
}

// Chain verification vs one SHA-256 per event.
{
  const enc = new TextEncoder();
  const bare = () => {
    for (const e of events) sink += sha256(enc.encode(JSON.stringify(e)))[0] as number;
  };
  const ours = () => {
    if (!verifyAuditLog(events, head).ok) throw new Error('chain did not verify');
  };
  const t = await interleaved(ours, bare, { rounds: QUICK ? 3 : 8, batch: 1 });
  rows.push(row({ name: `verify chain of ${N.toLocaleString('en-US')} events vs SHA-256 of each`, ours: '', baseline: '', kind: 'time', target: 3 }, t.oursMs, t.baselineMs));
  console.log(`verify: ${t.oursMs.toFixed(1)} ms (${Math.round((N / t.oursMs) * 1000).toLocaleString('en-US')} events/s); bare hashing ${t.baselineMs.toFixed(1)} ms`);
}

// Chained vs bare writes.
{
  const lic = { id: 'w', seats: { basic: 1_000_000_000 } };
  const plain = new SeatManager(new MemoryStore(), lic);
  const chained = new SeatManager(withAuditChain(new MemoryStore()), lic);
  let i = 0;
  const t = await interleaved(
    () => chained.assign(`c${i++}`, 'basic'),
    () => plain.assign(`p${i++}`, 'basic'),
    { rounds: QUICK ? 6 : 30, batch: 200 },
  );
  rows.push(row({ name: 'seat assign, withAuditChain(MemoryStore) vs MemoryStore', ours: '', baseline: '', kind: 'time', target: 3 }, t.oursMs, t.baselineMs));
}

reportRows('admin', rows, { events: N, sink });
