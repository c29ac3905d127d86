/**
 * `licit` command-line entry. A thin shell over the public API: each verb lives in
 * `commands/<verb>.ts` and is imported only when used, so a cold start loads nothing
 * the verb does not need.
 */
import { runCli, usageOf, type VerbTable } from './dispatch.js';

const VERBS: VerbTable = {
  keygen: { summary: 'make a vendor key pair', load: () => import('./commands/keygen.js') },
  issue: { summary: 'sign a license key (vendor); --store records it in the license registry', load: () => import('./commands/issue.js') },
  licenses: { summary: "the vendor's license registry: list, show, reissue, suspend, revoke, reinstate", load: () => import('./commands/licenses.js') },
  verify: { summary: 'verify a license key and print its status', load: () => import('./commands/verify.js') },
  inspect: { summary: 'decode any licit code (key, request, response, top-up); NOT VERIFIED unless --public-key', load: () => import('./commands/inspect.js') },
  credits: { summary: 'click-charge credits: status, history, verify, consume, topup', load: () => import('./commands/credits.js') },
  topup: { summary: 'sign a top-up token adding credits to a license (vendor)', load: () => import('./commands/topup.js') },
  seats: { summary: 'named seats per user type: assign, release, list, usage, access', load: () => import('./commands/seats.js') },
  devices: { summary: 'device activations of a license: list, reset, rename, suspend, revoke, reinstate (local store or server)', load: () => import('./commands/devices.js') },
  users: { summary: 'license users: list, add, remove, reset, rename, suspend, revoke, reinstate (local store or server)', load: () => import('./commands/users.js') },
  fingerprint: { summary: "this machine's fingerprint, or why it no longer matches (--explain)", load: () => import('./commands/fingerprint.js') },
  smbios: { summary: 'decode an SMBIOS dump (dmidecode --dump-bin) for support', load: () => import('./commands/smbios.js') },
  request: { summary: 'make an offline activation/renewal request code', load: () => import('./commands/request.js') },
  respond: { summary: 'answer a request code with a response code (vendor)', load: () => import('./commands/respond.js') },
  apply: { summary: 'install a response code (lease) on this installation', load: () => import('./commands/apply.js') },
  serve: { summary: 'run the license server (vendor)', load: () => import('./commands/serve.js') },
  log: { summary: 'the audit log of a license, hash chain verified', load: () => import('./commands/log.js') },
  report: { summary: 'usage report over a day, week, month or custom range (--html for charts)', load: () => import('./commands/report.js') },
  settings: { summary: "a license's alert settings: thresholds, automatic top-ups, notification recipients (local store or server)", load: () => import('./commands/settings.js') },
  portal: { summary: "the licensing portal's customer companies and their administrator accounts", load: () => import('./commands/portal.js') },
  // LICIT-VERBS: later verbs register here (fingerprint, smbios, credits, topup, seats, request, respond, apply, serve, log, report).
};

const USAGE = usageOf(VERBS);

/** Run the CLI with `argv` (without `node` and the script). Resolves to the exit code. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, VERBS, USAGE);
}
