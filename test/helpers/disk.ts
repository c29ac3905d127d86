/** Real full disks for fault tests: fill a (small tmpfs) file system to its last block. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Fill the file system holding `dir` until ENOSPC (in 64 KiB, then 4 KiB, then 512-byte writes); returns the filler's path. */
export function fillFileSystem(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
