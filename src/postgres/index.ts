/**
 * `licit/postgres`: seats, license users and activations in PostgreSQL (needs the `pg` package).
 * Only re-exports.
 */
export { PostgresStore, type PostgresStoreOptions } from './store.js';
export { SCHEMA_VERSION } from './schema.js';
