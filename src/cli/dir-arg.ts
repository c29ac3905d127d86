/** Checks on a flag that names a directory: shared with the store opener in src/server/open-store.ts. */
export { assertDirectory } from '../node/fs/dir-arg.js';
