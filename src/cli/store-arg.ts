/**
 * The store a `--store DIR|postgres://...` flag names: opened the one way every store named by a
 * string is opened (src/server/open-store.ts, which `createLicenseServer` uses for `$LICIT_STORE`),
 * loaded by the verb that opens one.
 */
export { openStore, type OpenStoreOptions } from '../cli-internals.js';
