/**
 * Time integration for usage reports: the range cut into chart buckets, and one accumulator per
 * seat type or limit that integrates "in use" and "licensed" over the elapsed part of the range
 * as the replay moves time forward. Nothing here knows event kinds (report-replay.ts does).
 */
import type { ResolvedRange } from './range.js';

/** What one seat type (or limit) accumulates over the range. */
export interface Accumulator {
  inUse: number;
  licensed: number | undefined;
  /** ∫ in use dt and ∫ licensed dt over the elapsed range (ms-weighted). */
  usedMs: number;
  licMs: number;
  peak: number;
  topUps: number;
  added: number;
  /** Per bucket: ∫ in use, ∫ licensed, and in use at the bucket's end (+1 marks "set"; NaN after now once carried). */
  bUsed: Float64Array;
  bLic: Float64Array;
  bEnd: Float64Array;
  /** In use when the range starts (undefined until then). */
  start: number | undefined;
  /** In use and licensed when the range ends (or now). */
  end: { inUse: number; licensed: number } | undefined;
}

/** Add `v` to bucket `i` of a per-bucket sum. */
export function addAt(a: Float64Array, i: number, v: number): void {
  a[i] = (a[i] ?? 0) + v;
}

/**
 * The range's clock: integrates every accumulator up to each event's time, snapshots the state
 * when the range starts and ends, and records "in use at the end of each bucket".
 */
export class Timeline {
  /** Every accumulator, seat types and limits alike, for the integration loops. */
  readonly accs: Accumulator[] = [];
  /** Bucket edges (`nb + 1` of them). */
  readonly edges: readonly number[];
  /** Number of buckets. */
  readonly nb: number;
  /** How far the figures reach: the range's end, or now while it runs (never before its start). */
  readonly until: number;
  readonly #running: boolean;
  readonly #from: number;
  #cursor: number; // integrated up to here
  #bucket = 0;
  #started = false;
  #ended = false;

  constructor(range: ResolvedRange, now: number) {
    this.edges = range.edges;
    this.nb = range.edges.length - 1;
    this.until = Math.max(range.from, Math.min(range.to, now));
    this.#running = now < range.to;
    this.#from = range.from;
    this.#cursor = range.from;
  }

  /** A new accumulator, integrated from now on with the others. */
  newAcc(licensed: number | undefined): Accumulator {
    const nb = this.nb;
    const a: Accumulator = { inUse: 0, licensed, usedMs: 0, licMs: 0, peak: 0, topUps: 0, added: 0, bUsed: new Float64Array(nb), bLic: new Float64Array(nb), bEnd: new Float64Array(nb), start: undefined, end: undefined };
    this.accs.push(a);
    return a;
  }

  /** After the range; a range still running ends at now inclusive (an event stamped this millisecond counts). */
  past(t: number): boolean {
    return t > this.until || (t === this.until && !this.#running);
  }

  inRange(t: number): boolean {
    return t >= this.#from && !this.past(t);
  }

  bucketOf(t: number): number {
    let lo = 0;
    let hi = this.nb - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.edges[mid] as number) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Move time to an event at `t`: integrate up to it, and snapshot the start or end it crosses. */
  enter(t: number): void {
    if (t > this.#from) this.#advance(t);
    if (!this.#started && t >= this.#from) this.#snapshotStart();
    // Events after the range still run (for whole-month additions): freeze the state at its end.
    if (!this.#ended && this.past(t)) this.#snapshotEnd();
  }

  /** After an event at `t`: in use at the end of its bucket is the state after the last event before the bucket's end. */
  leave(t: number): void {
    if (this.past(t)) return;
    const b = t < this.#from ? -1 : this.bucketOf(t);
    if (b >= 0) for (const a of this.accs) (a.bEnd as Float64Array)[b] = a.inUse + 1; // +1: "set" marker
  }

  /** Integrate to the end (or now) and take the snapshots no event crossed. */
  finish(): void {
    this.#advance(this.until);
    if (!this.#started) this.#snapshotStart();
    if (!this.#ended) this.#snapshotEnd();
  }

  /** Carry "in use at bucket end" forward through buckets without events; buckets after now become NaN. */
  carryBucketEnds(): void {
    const lastBucket = this.until > this.#from ? this.bucketOf(this.until - 1) : -1;
    for (const a of this.accs) {
      let carry = a.start ?? 0;
      for (let b = 0; b < this.nb; b++) {
        if (a.bEnd[b] !== 0) carry = (a.bEnd[b] as number) - 1;
        a.bEnd[b] = b > lastBucket ? Number.NaN : carry;
      }
    }
  }

  /** Integrate every accumulator's state from the cursor up to `t` (clamped to the elapsed range). */
  #advance(t: number): void {
    const end = Math.min(t, this.until);
    while (this.#cursor < end) {
      const edge = Math.min(this.edges[this.#bucket + 1] as number, end);
      const dt = edge - this.#cursor;
      for (const a of this.accs) {
        const lic = a.licensed ?? 0;
        a.usedMs += a.inUse * dt;
        a.licMs += lic * dt;
        addAt(a.bUsed, this.#bucket, a.inUse * dt);
        addAt(a.bLic, this.#bucket, lic * dt);
      }
      this.#cursor = edge;
      if (this.#cursor === this.edges[this.#bucket + 1] && this.#bucket < this.nb - 1) this.#bucket++;
    }
  }

  #snapshotStart(): void {
    this.#started = true;
    for (const a of this.accs) {
      a.start = a.inUse;
      a.peak = Math.max(a.peak, a.inUse);
    }
  }

  #snapshotEnd(): void {
    this.#ended = true;
    for (const a of this.accs) a.end = { inUse: a.inUse, licensed: a.licensed ?? 0 };
  }
}
