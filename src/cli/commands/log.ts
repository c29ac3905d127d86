/**
 * `licit log`: print a license's audit log after verifying its hash chain; refuses with
 * `ERR_AUDIT_TAMPERED`, naming the first bad event, when it was edited or cut short.
 */
import { LicenseError } from '../../cli-internals.js';
import { readVerifiedLog, type AuditHead } from '../../admin.js';
import { openStore } from '../store-arg.js';
import { parseFlags, required, type Verb } from '../context.js';

const USAGE = 'licit log --store DIR|postgres://... --license-id ID [--schema NAME] [--anchor SEQ:HASH] [--json]';

/** Parse `SEQ:HASH` (as `licit log` prints the head). */
function anchorOf(v: string | undefined): AuditHead | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(v.trim());
  if (m === null) throw new LicenseError('ERR_USAGE', `--anchor must be SEQ:HASH as \`licit log\` prints the head (e.g. 12:3f…), got "${v}"`);
  return { seq: Number(m[1]), hash: m[2] as string };
}

/** `licit log`: the verified audit log of one license. */
export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(argv, { store: s, 'license-id': s, schema: s, anchor: s }, USAGE);
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const storeSpec = required(v.store, '--store', USAGE);
  const licenseId = required(v['license-id'], '--license-id', USAGE);
  const anchor = anchorOf(v.anchor);
  const store = await openStore(storeSpec, { schema: v.schema, poolSize: 2, applicationName: 'licit-cli', existing: true });
  try {
    const log = await readVerifiedLog(store, licenseId, anchor === undefined ? {} : { anchor });
    const lines = log.events.map((e) => `${e.seq}\t${e.at}\t${e.actor}\t${e.kind}\t${JSON.stringify(e.details)}`);
    const head = `head ${log.head.seq}:${log.head.hash}`;
    return {
      data: { licenseId, verified: true, head: log.head, events: log.events },
      text: log.events.length === 0 ? `License ${licenseId}: no events in this store (a license that never changed, or check --license-id and --store).` : `SEQ\tAT\tACTOR\tKIND\tDETAILS\n${lines.join('\n')}\n\n${log.events.length} events, hash chain verified; ${head}\n(keep the head somewhere safe and pass it back with --anchor to detect a rewrite)`,
    };
  } finally {
    await store.close();
  }
};
