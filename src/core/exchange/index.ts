/**
 * The activation / renewal exchange: request codes signed by an installation, leases signed by the
 * vendor. Pure functions over the shared envelope; the Node runtime and the server build on them.
 */
export { createRequest, openRequest, type RequestInput, type ExchangeRequest, type RequestOperation, type InstallationSigner, type TopUpAsk } from './request.js';
export { createLease, openLease, verifyLease, checkLeaseBinding, checkLeaseNonce, type LeaseInput, type Lease, type LeaseBinding, type NonceState } from './lease.js';
export { newNonce, EXCHANGE_VERSION, NONCE_BYTES } from './fields.js';
