// Whole-file advisory locks that the kernel drops when the holder dies (flock / LockFileEx).
#pragma once

namespace licit {

// Try to take an exclusive lock on an open file without blocking.
// Returns 0 when taken, 1 when another open file description holds it, or -errno on failure.
int TryLockFd(int fd);

// Release a lock taken by TryLockFd. Returns 0 or -errno.
int UnlockFd(int fd);

}  // namespace licit
