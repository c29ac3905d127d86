/**
 * `licit respond` (vendor): answer a request code with a response code, counting the activation
 * against the license's limits in a store (`--store DIR|postgres://...`, default `$LICIT_STORE`
 * or `./licit-store`): the same store `licit serve` uses, so offline and online activations share
 * one count.
 */
import { resolve } from 'node:path';
import { LicenseError, loadVendor } from '../../cli-internals.js';
import { parseFlags, required, type Verb } from '../context.js';
import { keyOrCode, readTextFile } from '../files.js';
import { openStore } from '../store-arg.js';

const USAGE = 'licit respond --signing-key FILE [--store DIR|postgres://...] [--schema NAME] [--container-policy allow|refuse|machine-id] [--weak-identity allow|refuse] [--json] [CODE | -]';

/** `licit respond`: print a response code. */
export const run: Verb = async (argv, ctx) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(argv, { 'signing-key': s, store: s, schema: s, 'container-policy': s, 'weak-identity': s }, USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `expected one request code\nUsage: ${USAGE}`);
  const signingKey = readTextFile(required(v['signing-key'], '--signing-key', USAGE), '--signing-key');
  // The vendor's identity policy, as `licit serve` takes it: an offline code is answered by the
  // same rules as an online request, so the offline channel is no way around them.
  const containerPolicy = v['container-policy'] ?? 'allow';
  if (containerPolicy !== 'allow' && containerPolicy !== 'refuse' && containerPolicy !== 'machine-id') throw new LicenseError('ERR_USAGE', `--container-policy must be allow, refuse or machine-id\nUsage: ${USAGE}`);
  const weakIdentity = v['weak-identity'] ?? 'allow';
  if (weakIdentity !== 'allow' && weakIdentity !== 'refuse') throw new LicenseError('ERR_USAGE', `--weak-identity must be allow or refuse\nUsage: ${USAGE}`);
  const code = keyOrCode(positionals[0], 'request code');
  const { Vendor } = await loadVendor();
  const spec = v.store ?? process.env.LICIT_STORE ?? 'licit-store';
  // Name the store on stderr (stdout stays the code, or one JSON object): an activation counted in
  // a ./licit-store nobody meant to create would otherwise go unnoticed.
  if (v.store === undefined) {
    const where = /^postgres(ql)?:\/\//.test(spec) ? spec.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : resolve(spec);
    ctx.warn(`licit respond: counting in the store ${where} (${process.env.LICIT_STORE === undefined ? 'default ./licit-store' : '$LICIT_STORE'}; choose one with --store)`);
  }
  const flag = v.store === undefined ? (process.env.LICIT_STORE === undefined ? 'the default store' : '$LICIT_STORE') : '--store';
  const store = await openStore(spec, { schema: v.schema, applicationName: 'licit-respond', flag });
  try {
    const vendor = new Vendor({ signingKey, store, containerPolicy, weakIdentity });
    const answer = await vendor.answer(code).catch((e: unknown) => {
      // The core message tells an application to add the key to `publicKeys`; respond has no such
      // option: the operator simply picked the wrong --signing-key for this license.
      if (e instanceof LicenseError && e.code === 'ERR_EXCHANGE_UNPROVEN' && e.details.reason === 'ERR_KEY_UNKNOWN_SIGNER') {
        const kid = typeof e.details.kid === 'string' ? e.details.kid : 'unknown';
        throw new LicenseError('ERR_KEY_UNKNOWN_SIGNER', `this request is for a license signed by another vendor key (kid ${kid}), but the --signing-key given has kid ${vendor.signer.kid}. Answer it with the signing key whose kid is ${kid}.`, { kid, signingKid: vendor.signer.kid });
      }
      // The core message says to send a password or ID token; a request code cannot carry one.
      if (e instanceof LicenseError && e.code === 'ERR_USER_AUTH_REQUIRED') {
        throw new LicenseError('ERR_USER_AUTH_REQUIRED', `${e.message}. A request code carries no sign-in, so licit respond cannot make a new activation on this license: activate this installation online (the application's Licensing with \`credentials\`, against licit serve).`, e.details);
      }
      throw e;
    });
    if ('deactivated' in answer) return { data: { deactivated: true, licenseId: answer.licenseId, deviceId: answer.deviceId }, text: `Deactivated device ${answer.deviceId} of license ${answer.licenseId}.` };
    if (!('lease' in answer)) return { data: { recorded: true, licenseId: answer.licenseId, floor: answer.floor }, text: `Recorded usage of license ${answer.licenseId} (floor ${answer.floor}).` };
    // The vendor sees a same-machine reinstall on stderr, as licit serve shows it in its access log.
    if (answer.reinstalled !== undefined) ctx.warn(`licit respond: reinstall on the same machine: installation ${answer.reinstalled.from} of license ${answer.licenseId} is replaced by ${answer.deviceId} (${answer.reinstalled.transferCounted ? 'transfer counted' : 'no transfer'})`);
    return {
      data: { response: answer.lease, licenseId: answer.licenseId, deviceId: answer.deviceId, user: answer.user, verifiedUntil: answer.verifiedUntil.toISOString(), activated: answer.activated },
      text: answer.lease,
    };
  } finally {
    await store.close();
  }
};
