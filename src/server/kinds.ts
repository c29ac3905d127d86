/** The record kinds the license server keeps in its store. */
export const KINDS = {
  /** The registered license key (key `key`): its text, issue time and seat counts. */
  license: 'server.license',
  /** One record per installation (keyed by its id): user, recent nonces, consumption, seats, last seen. */
  installation: 'server.installation',
  /** One record per top-up token (keyed by token id): the token, credits, idempotency key, source. */
  topup: 'server.topup',
  /**
   * One record per re-issue made with an idempotency key (keyed by a digest of the key): what it
   * asked for and the key it signed, so a retried seat top-up finds it instead of adding again.
   */
  reissue: 'server.reissue',
  /** Credits each ledger spent (keyed by ledger id): per installation that reported it, from what base. */
  spent: 'server.spent',
  /** The license's whole consumption (key `total`): the sum over every ledger it ever had. */
  credits: 'server.credits',
  /**
   * Which device a machine was activated as, per user (keyed by a hash of user and fingerprint), so
   * a same-machine reinstall is found with one read however many activations the license holds.
   * Key `built` marks a store whose index covers every activation (older stores are indexed once).
   */
  machine: 'server.machine',
  /** Self-service device resets (key `recent`): when each of the current period happened. */
  selfReset: 'server.self-reset',
} as const;
