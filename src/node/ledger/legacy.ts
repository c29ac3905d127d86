/**
 * Ledgers written before the log engine (licit 0.1): one regular file per copy, named as the log
 * directories are now (`credits-<id>.ledger`, `.<hash>.dat`), holding `u32 length | sealed body`
 * frames (core/ledger/frame.ts, read by core/ledger/chain.ts `readChain`). They are read here only
 * to be migrated: each old copy becomes a log directory of the same name holding the same sealed
 * bodies, so every record, hash and ledger id stays what it was.
 *
 * A file cannot be renamed over by a directory, so a copy migrates in steps, each durable before
 * the next (parent directory fsynced):
 *
 * 1. create `<name>.migrating` (a complete log, built in a temp directory and renamed into place);
 * 2. unlink the old file `<name>`;
 * 3. rename `<name>.migrating` to `<name>`.
 *
 * A crash at any step is finished on the next open: a `.migrating` directory beside the old file
 * is discarded and built again (the old file is still the truth, step 2 did not happen); one without
 * the old file is renamed into place (step 3). So records are never lost nor counted twice, and no
 * old file is left behind to be migrated again later (which could give credits back).
 */
import { lstatSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { LicenseError } from '../../core/errors.js';
import { emptyHead, readChain } from '../../core/ledger/chain.js';
import { reconcile, type CopyName, type CopyRead } from '../../core/ledger/reconcile.js';
import type { LedgerKey } from '../../core/ledger/seal.js';
import { makeDirectory } from '../../os/make-dir.js';
import { AppendLog } from '../log/append-log.js';
import { logIO } from '../log/io.js';

/**
 * Largest old-format copy read: 1 GiB, the most licit 0.1 wrote. An old copy is read whole, so a
 * bound keeps a padded or swapped-in file from exhausting memory.
 */
export const MAX_COPY_BYTES = 1024 * 1024 * 1024;

/** Suffix of the directory a copy is migrated into before it takes the old file's name. */
export const MIGRATING = '.migrating';

const isFile = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false })?.isFile() === true;
const exists = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined;

/** Whether either copy needs migrating (an old file, or a migration a crash interrupted). */
export function needsMigration(paths: Readonly<Record<CopyName, string>>): boolean {
  return Object.values(paths).some((p) => isFile(p) || exists(`${p}${MIGRATING}`));
}

/** Read one old-format copy: its chain and each record's sealed body. */
function readLegacy(key: LedgerKey, genesis: Uint8Array, path: string): Promise<CopyRead & { bodies?: Uint8Array[] }> | CopyRead {
  if (!isFile(path)) return { status: 'missing' };
  const { size } = statSync(path);
  if (size > MAX_COPY_BYTES) {
    throw new LicenseError('ERR_LEDGER_TAMPERED', `${path} is ${size} bytes, more than any ledger copy licit writes (1 GiB): it was padded or replaced. Restore the ledger files from a backup, or ask the vendor for a license carrying the consumption they last saw`, { path, size });
  }
  const bytes = readFileSync(path);
  return readChain(key, bytes, 0, emptyHead(genesis)).then((r) => (r.status === 'ok' ? { ...r, bodies: r.entries.map((e) => bytes.subarray(e.start + 4, e.end)) } : r));
}

/**
 * Migrate the old-format copies among `paths` into log directories (under the ledger lock).
 * Old copies are checked as before (a copy that does not verify, or two that fork, is
 * `ERR_LEDGER_TAMPERED` and nothing is changed); each then becomes a log of its own verified
 * records (a torn tail is left out, as it always was); the two logs are reconciled afterwards like
 * any others. Resolves with the copies migrated.
 */
export async function migrateLegacy(paths: Readonly<Record<CopyName, string>>, key: LedgerKey, genesis: Uint8Array, logId: string, mode: number): Promise<CopyName[]> {
  const names: CopyName[] = ['primary', 'mirror'];
  // Finish a migration that got past unlinking the old file.
  for (const n of names) {
    const path = paths[n];
    const tmp = `${path}${MIGRATING}`;
    if (exists(tmp) && !exists(path)) {
      await logIO.rename(tmp, path);
      await logIO.syncDir(dirname(path));
    }
  }
  const [pr, mr] = await Promise.all(names.map((n) => readLegacy(key, genesis, paths[n])));
  const reads = { primary: pr as CopyRead & { bodies?: Uint8Array[] }, mirror: mr as CopyRead & { bodies?: Uint8Array[] } };
  if (reads.primary.status === 'missing' && reads.mirror.status === 'missing') return [];
  reconcile(reads.primary, reads.mirror); // throws for a copy that does not verify, or a fork
  const done: CopyName[] = [];
  for (const n of names) {
    const read = reads[n];
    if (read.status !== 'ok') continue;
    const path = paths[n];
    const tmp = `${path}${MIGRATING}`;
    // Left by a crash before the old file was unlinked: the old file is the truth, build again.
    rmSync(tmp, { recursive: true, force: true });
    await makeDirectory(dirname(path));
    await AppendLog.create(tmp, logId, mode, read.bodies ?? []);
    rmSync(path);
    await logIO.syncDir(dirname(path));
    await logIO.rename(tmp, path);
    await logIO.syncDir(dirname(path));
    done.push(n);
  }
  return done;
}
