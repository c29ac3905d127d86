/**
 * Looking at and editing a FileStore's files the way an operator, a crash or an attacker would:
 * list a license's files, decode a segment's frames, rewrite records with valid checksums (an
 * edit the checksums cannot catch), and write a store in the old `licit-store/1` layout by hand.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameType, encodeFrames, readFrame, type Frame } from '../../src/node/log/frame.js';
import type { AuditEvent, JsonObject } from '../../src/core/store/store.js';

/** The directory of a license with a tame id. */
export const licenseDir = (store: string, id: string) => join(store, `l-${id}`);

/** Segment file `gen` of a license directory. */
export const segment = (licDir: string, gen = 1) => join(licDir, `log-${String(gen).padStart(10, '0')}`);

/** Every file under `dir` (relative paths, sorted) with its bytes. */
export function tree(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.push([`${rel}${name}`, readFileSync(p).toString('base64')]);
    }
  };
  walk(dir, '');
  return out;
}

/** The frames of a segment file, in order, stopping at the first that does not decode. */
export function frames(path: string): Frame[] {
  const buf = new Uint8Array(readFileSync(path));
  const out: Frame[] = [];
  for (let p = 0; p < buf.length; ) {
    const f = readFrame(buf, p);
    if (f === undefined) break;
    out.push(f);
    p = f.end;
  }
  return out;
}

/** The decoded JSON of each data record of a segment. */
export function records(path: string): Array<{ w: Array<[string, string, JsonObject | null]>; e: Array<[number, string, string, string, JsonObject]> }> {
  return frames(path)
    .filter((f) => f.type === FrameType.data)
    .map((f) => JSON.parse(Buffer.from(f.payload).toString('utf8')));
}

/** Rewrite a segment's data records through `edit`, re-encoding every frame with valid checksums. */
export function rewriteRecords(path: string, edit: (records: Array<{ seq: number; json: { w: unknown[]; e: unknown[] } }>) => Array<{ seq: number; json: unknown }>): void {
  const fs = frames(path);
  const header = fs.filter((f) => f.type !== FrameType.data);
  const data = edit(fs.filter((f) => f.type === FrameType.data).map((f) => ({ seq: f.seq, json: JSON.parse(Buffer.from(f.payload).toString('utf8')) })));
  const bytes = encodeFrames([
    ...header.filter((f) => f.type === FrameType.header).map((f) => ({ type: FrameType.header, seq: f.seq, batch: f.batch, payload: f.payload, end: true })),
    ...data.map((d) => ({ type: FrameType.data, seq: d.seq, batch: d.seq, payload: Buffer.from(JSON.stringify(d.json)), end: true })),
    ...header.filter((f) => f.type === FrameType.seal).map((f) => ({ type: FrameType.seal, seq: f.seq, batch: f.batch, payload: f.payload, end: true })),
  ]);
  writeFileSync(path, bytes);
}

/**
 * Write a license the way licit's FileStore did before the log (`licit-store/1`): a state file
 * with every record, the event count and the committed length of `<name>.events.jsonl`.
 */
export function writeOldLayout(store: string, id: string, records: Record<string, Record<string, JsonObject>>, events: Array<Omit<AuditEvent, 'licenseId' | 'seq'>>, opts: { uncommittedTail?: string } = {}): void {
  const lines = events.map((e, i) => `${JSON.stringify({ licenseId: id, seq: i + 1, at: e.at, actor: e.actor, kind: e.kind, details: e.details })}\n`).join('');
  const eventBytes = Buffer.byteLength(lines);
  writeFileSync(join(store, `l-${id}.events.jsonl`), lines + (opts.uncommittedTail ?? ''), { mode: 0o600 });
  writeFileSync(join(store, `l-${id}.state.json`), JSON.stringify({ format: 'licit-store/1', licenseId: id, lastSeq: events.length, eventBytes, records }), { mode: 0o600 });
}
