/**
 * `licit/node`: the Node.js runtime (what needs the operating system). Only re-exports; each
 * concern lives in its own module.
 */
export { acquireLock, withLock, type FileLock, type LockOptions } from './lock.js';
export { loadNative, requireNative, nativeLoadError, type NativeAddon } from './native.js';
