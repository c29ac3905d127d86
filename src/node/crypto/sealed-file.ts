/** A {@link SealedStateStore} backed by one file, replaced atomically (write, fsync, rename, fsync dir). */
import './backends.js'; // node:crypto for Ed25519 and AES-GCM
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClockGuard, SealedStateStore } from '../../core/time/clock-guard.js';
import { LicenseError } from '../../core/errors.js';
import { makeDirectory } from '../../os/make-dir.js';

/** Write `bytes` to `path` so that a crash leaves either the old or the new contents, never a mix. */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await makeDirectory(dir);
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  } finally {
    await d.close();
  }
}

/** Sealed state kept in a file (for {@link ClockGuard} and other sealed local state). */
export class SealedFile implements SealedStateStore {
  /** @param path the file holding the sealed bytes */
  constructor(readonly path: string) {}

  /** The stored bytes, or `undefined` when the file does not exist. */
  async read(): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LicenseError('ERR_IO', `cannot read ${this.path}: ${(e as Error).message}`);
    }
  }

  /** Replace the file atomically. */
  async write(bytes: Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(this.path, bytes);
    } catch (e) {
      throw new LicenseError('ERR_IO', `cannot write ${this.path}: ${(e as Error).message}. Check that the directory is writable.`);
    }
  }
}
