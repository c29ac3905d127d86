/**
 * `mkdir -p` that always returns. Node's own `mkdir(dir, { recursive: true })` loops forever where
 * `mkdir` reports ENOENT under a parent that exists (any path under `/proc`, for one), so a
 * mistyped `--dir` would hang the process at full CPU instead of failing.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Create `dir` and its missing parents (new ones with `mode`); rejects with the system error of the first that cannot be made. */
export async function makeDirectory(dir: string, mode = 0o700): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(dir); ; ) {
    try {
      await stat(p);
      break; // exists; if it is not a directory, the mkdir of the next level (or the caller) says so
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made by someone else meanwhile
    }
  }
}
