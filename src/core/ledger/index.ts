/** The click-charge ledger's record format, chain and reconciliation (pure; no I/O). */
export * from './record.js';
export * from './seal.js';
export * from './frame.js';
export * from './chain.js';
export * from './reconcile.js';
export * from './plan.js';
export * from './keys.js';
export * from './snapshot.js';
