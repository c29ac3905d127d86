import { cliSecret } from '../secret.js';
import { LicenseError, loadCreditLedger, loadDirArg, loadText } from '../../cli-internals.js';
import { verifyLicense, verifyTopUp } from '../../index.node.js';
import type { ConsumeOptions, CreditLedger, CreditLedgerOptions } from '../../node/index.js';
import { integer, parseFlags, required, type CliContext, type Outcome, type Verb } from '../context.js';
import { keyOrCode, licenseText, readPublicKeys } from '../files.js';
import { machineCheckFor } from '../machine.js';

const USAGE =
  'licit credits --license KEY --public-key FILE [--secret-file FILE] [--salt S] [--machine-id ID] [--dir DIR] [--mirror-dir DIR] [--app NAME] [--recover] [--json]\n' +
  '       status | history | verify | consume N [--repeat R] [--reason TEXT] [--idempotency-key KEY] | topup TOKEN\n' +
  'The ledger secret (required; use the one your application was built with) comes from --secret-file, else $LICIT_SECRET.';

/** `licit credits`: status, history, verification, consumption and top-ups of a click-charge ledger. */
export const run: Verb = async (argv, ctx) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    {
      license: s, 'public-key': { type: 'string', multiple: true }, dir: s, 'mirror-dir': s, app: s,
      recover: { type: 'boolean' }, repeat: s, reason: s, salt: s, 'machine-id': s, 'secret-file': s, 'idempotency-key': s,
    },
    USAGE,
  );
  const [action, arg, extra] = positionals;
  if (action === undefined) throw new LicenseError('ERR_USAGE', `missing action\nUsage: ${USAGE}`);
  if (extra !== undefined) throw new LicenseError('ERR_USAGE', `unexpected argument "${extra}"\nUsage: ${USAGE}`);
  if (!['status', 'history', 'verify', 'consume', 'topup'].includes(action)) throw new LicenseError('ERR_USAGE', `unknown action "${action}"\nUsage: ${USAGE}`);
  if ((action === 'consume' || action === 'topup') !== (arg !== undefined)) throw new LicenseError('ERR_USAGE', `wrong arguments for "${action}"\nUsage: ${USAGE}`);
  const publicKeys = readPublicKeys(v['public-key'], USAGE);
  if (v['idempotency-key'] !== undefined && action !== 'consume') throw new LicenseError('ERR_USAGE', `--idempotency-key only applies to consume\nUsage: ${USAGE}`);
  if (v['idempotency-key'] !== undefined && v.repeat !== undefined) throw new LicenseError('ERR_USAGE', '--idempotency-key names one consume: it cannot be combined with --repeat');
  const secret = cliSecret(v['secret-file'], USAGE);
  // Node-locked licenses are checked against this machine, as `licit verify` does.
  const license = await verifyLicense(licenseText(required(v.license, '--license', USAGE)), { publicKeys, machine: machineCheckFor(v.salt, v['machine-id'], publicKeys) });
  const options: CreditLedgerOptions = { secret, publicKeys, recover: v.recover === true };
  if (v.dir !== undefined) options.dir = v.dir;
  if (v['mirror-dir'] !== undefined) options.mirrorDir = v['mirror-dir'];
  if (v.app !== undefined) options.appName = v.app;
  // Validate the action's own arguments before touching the ledger.
  const amount = action === 'consume' ? integer(arg, 'N') : undefined;
  const repeat = integer(v.repeat, '--repeat') ?? 1;
  // --repeat 0 would print nothing and exit 0: indistinguishable from success with no acks.
  if (repeat < 1) throw new LicenseError('ERR_USAGE', `--repeat must be 1 or more, got ${repeat}`);
  if (v.repeat !== undefined && action !== 'consume') throw new LicenseError('ERR_USAGE', `--repeat only applies to consume\nUsage: ${USAGE}`);
  if (amount === 0) throw new LicenseError('ERR_USAGE', 'consume needs N >= 1');
  const token = action === 'topup' ? await verifyTopUp(keyOrCode(arg, 'TOKEN'), { publicKeys }) : undefined;

  const [{ assertDirectory }, { CreditLedger }, { printableForTerminal }] = await Promise.all([loadDirArg(), loadCreditLedger(), loadText()]);
  assertDirectory(v.dir, '--dir');
  assertDirectory(v['mirror-dir'], '--mirror-dir');
  const ledger = await CreditLedger.open(license, options);
  try {
    switch (action) {
      case 'consume':
        return await consume(ledger, amount as number, repeat, { reason: v.reason ?? '', idempotencyKey: v['idempotency-key'] }, ctx);
      case 'topup': {
        const r = await ledger.topUp(token as NonNullable<typeof token>);
        return {
          data: { applied: r.applied, tokenId: r.tokenId, allowance: r.allowance, consumed: r.consumed, remaining: r.remaining },
          text: r.applied ? `Applied top-up ${r.tokenId}: +${r.credits} credits; ${r.remaining} of ${r.allowance} remain.` : `Top-up ${r.tokenId} was already applied; nothing added. ${r.remaining} of ${r.allowance} remain.`,
        };
      }
      case 'history': {
        const entries = await ledger.history();
        return {
          data: { licenseId: license.id, entries: entries.map((e) => ({ ...e, time: e.time.toISOString() })) },
          text: entries.length === 0 ? 'No records yet.' : entries.map((e) => `${String(e.seq).padStart(6)}  ${e.time.toISOString()}  ${e.kind.padEnd(7)} ${String(e.amount).padStart(8)}  consumed ${e.consumed}${e.tokenId ? `  token ${printableForTerminal(e.tokenId)}` : ''}${e.reason ? `  ${printableForTerminal(e.reason)}` : ''}`).join('\n'),
        };
      }
      case 'verify': {
        const r = await ledger.verify();
        // Opening the ledger already repaired what it found: report that, not the repaired state.
        const atOpen = ledger.foundAtOpen;
        const created = atOpen.primary === 'missing' && atOpen.mirror === 'missing';
        const primary = created || atOpen.primary === 'ok' ? r.primary : atOpen.primary;
        const mirror = created || atOpen.mirror === 'ok' ? r.mirror : atOpen.mirror;
        return {
          data: { licenseId: license.id, ...r, primary, mirror, created, paths: { primary: ledger.paths.primary, mirror: ledger.paths.mirror } },
          text: created
            ? `No ledger of ${license.id} existed; created it: ${r.consumed} of ${r.allowance} consumed.`
            : `Ledger of ${license.id} verifies: ${r.records} records, ${r.consumed} of ${r.allowance} consumed. Primary ${primary}, mirror ${mirror}${primary === 'ok' && mirror === 'ok' ? '' : ' (repaired from the other copy)'}.`,
        };
      }
      default: {
        const b = await ledger.balance();
        return {
          data: { licenseId: license.id, allowance: b.allowance, consumed: b.consumed, remaining: b.remaining, toppedUp: b.toppedUp, paths: { primary: ledger.paths.primary, mirror: ledger.paths.mirror } },
          text: `License ${license.id}: ${b.remaining} of ${b.allowance} credits remain (${b.consumed} consumed${b.toppedUp > 0 ? `, ${b.toppedUp} from top-ups` : ''}).`,
        };
      }
    }
  } finally {
    await ledger.close();
  }
};

/**
 * Consume `n` credits `repeat` times, one `ack <total consumed>` line per durable consumption. With
 * an idempotency key (one consume), a consume recorded before prints `repeated <total after it>`.
 */
async function consume(ledger: CreditLedger, n: number, repeat: number, options: ConsumeOptions, ctx: CliContext): Promise<Outcome | undefined> {
  for (let i = 0; i < repeat; i++) {
    const r = await ledger.consume(n, options);
    // Written synchronously: once this returns the line is in the pipe, so a process killed right
    // after still has every "ack" it reported readable by the other end.
    if (r.repeated) ctx.line({ ack: r.consumed, seq: r.seq, remaining: r.remaining, repeated: true }, `repeated ${r.consumed}`);
    else ctx.line({ ack: r.consumed, seq: r.seq, remaining: r.remaining }, `ack ${r.consumed}`);
  }
  return undefined;
}
