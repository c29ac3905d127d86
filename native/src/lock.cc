// flock(2) on POSIX, LockFileEx on Windows. Both locks belong to one open file (description /
// handle), so two opens of the same path exclude each other even inside one process, and the
// kernel releases the lock when the last descriptor closes, which includes the holder being killed.
#include "lock.h"

#ifdef _WIN32
#include <uv.h>  // uv_get_osfhandle: Node's fds are libuv CRT fds, and the CRT may differ from ours
#include <windows.h>
#else
#include <cerrno>
#include <sys/file.h>
#endif

namespace licit {

#ifdef _WIN32

// Windows byte-range locks are mandatory: lock one byte far beyond the end so that other
// processes can still read the holder's identity at the start of the file.
static OVERLAPPED LockRegion() {
  OVERLAPPED ov = {};
  ov.OffsetHigh = 0x40000000;
  return ov;
}

int TryLockFd(int fd) {
  HANDLE h = uv_get_osfhandle(fd);
  if (h == INVALID_HANDLE_VALUE) return -9;  // EBADF
  OVERLAPPED ov = LockRegion();
  if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) return 0;
  DWORD err = GetLastError();
  if (err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING) return 1;
  return -static_cast<int>(err);
}

int UnlockFd(int fd) {
  HANDLE h = uv_get_osfhandle(fd);
  if (h == INVALID_HANDLE_VALUE) return -9;
  OVERLAPPED ov = LockRegion();
  if (UnlockFileEx(h, 0, 1, 0, &ov)) return 0;
  return -static_cast<int>(GetLastError());
}

#else

int TryLockFd(int fd) {
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return 1;
    return -errno;
  }
}

int UnlockFd(int fd) {
  for (;;) {
    if (flock(fd, LOCK_UN) == 0) return 0;
    if (errno == EINTR) continue;
    return -errno;
  }
}

#endif

}  // namespace licit
