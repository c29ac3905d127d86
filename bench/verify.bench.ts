/**
 * License verification end to end (text -> License) against a raw node:crypto Ed25519 verify of
 * the same signed bytes with a cached key: the floor no verifier can beat. Target: <= 1.15x for a
 * key verified again with a new list of trusted keys each call (parsing is cached per key text,
 * the signature is checked) and <= 1.3x cold (1,500 distinct keys, more than the cache holds:
 * every call parses, validates and checks the signature). For information: the same key with the
 * same list of keys, where the signature that held under that keyring is cached too.
 * Feature check after verification against a bare Set.has. Target: <= 1.5x.
 */
import { createPublicKey, verify } from 'node:crypto';
import { base64urlDecode } from '../src/core/codec/base64.js';
import { parseEnvelope, toBeSigned } from '../src/core/crypto/envelope.js';
import { verifyLicense } from '../src/index.node.js';
import { generateKeyPair, issueLicense } from '../src/issuer/index.js';
import { interleaved, makeBench, periodOf, reportRows, row } from './lib/report.js';

const pair = generateKeyPair();
const features = Array.from({ length: 20 }, (_, i) => `feature-${i}`);
const key = await issueLicense(
  { customer: 'ACME GmbH', edition: 'enterprise', features, seats: { basic: 100, advanced: 20 }, expiresAt: new Date('2030-01-01'), credits: 10000, maxActivations: 5 },
  { signingKey: pair.privateKeyPem },
);
const publicKeys = [pair.publicKeyPem];
const env = parseEnvelope(key, 'license');
const tbs = toBeSigned(env.protectedBytes, env.payload);
const sig = env.signature;
const pub = createPublicKey(pair.publicKeyPem);
if (!verify(null, tbs, pub, sig) || base64urlDecode(key.slice(7)) === undefined) throw new Error('bench setup: signature does not verify');

const license = await verifyLicense(key, { publicKeys });
// 1,500 distinct keys (more than the parse cache's 1,024) for the cold path: every call parses,
// validates and checks the signature.
const coldKeys = await Promise.all(
  Array.from({ length: 1500 }, (_, i) => issueLicense({ licenseId: `COLD-${i}`, customer: 'ACME GmbH', edition: 'enterprise', features, seats: { basic: 100, advanced: 20 }, expiresAt: new Date('2030-01-01'), credits: 10000, maxActivations: 5 }, { signingKey: pair.privateKeyPem })),
);
const coldTbs = coldKeys.map((k) => {
  const e = parseEnvelope(k, 'license');
  return { tbs: toBeSigned(e.protectedBytes, e.payload), sig: e.signature };
});
let ci = 0;
let ri = 0;
const set = new Set(features);
let sink = 0;

const warm = await interleaved(
  async () => {
    // A new array each call builds a new keyring: the signature is checked, as on a first sight.
    sink += (await verifyLicense(key, { publicKeys: [pair.publicKeyPem] })).seatsFor('basic');
  },
  async () => {
    // awaited like ours, so both pay the same promise overhead and only the work differs
    sink += (await Promise.resolve(verify(null, tbs, pub, sig))) ? 1 : 0;
  },
);
const same = await interleaved(
  async () => {
    sink += (await verifyLicense(key, { publicKeys })).seatsFor('basic');
  },
  async () => {
    sink += (await Promise.resolve(verify(null, tbs, pub, sig))) ? 1 : 0;
  },
);
const cold = await interleaved(
  async () => {
    sink += (await verifyLicense(coldKeys[ci++ % coldKeys.length] as string, { publicKeys })).seatsFor('basic');
  },
  async () => {
    const c = coldTbs[ri++ % coldTbs.length]!;
    sink += (await Promise.resolve(verify(null, c.tbs, pub, c.sig))) ? 1 : 0;
  },
);

const bench = makeBench();
bench
  .add('license.has(feature)', () => {
    sink += license.has('feature-7') ? 1 : 0;
    sink += license.has('missing') ? 1 : 0;
  })
  .add('Set.has(feature)', () => {
    sink += set.has('feature-7') ? 1 : 0;
    sink += set.has('missing') ? 1 : 0;
  });
await bench.run();

console.log(`license key: ${key.length} characters`);
reportRows('verify', [
  row({ name: 'verify again, new list of keys (signature checked, parse cached) vs raw Ed25519 verify', ours: '', baseline: '', kind: 'time', target: 1.15 }, warm.oursMs, warm.baselineMs),
  row({ name: 'verify cold (1,500 distinct keys, full parse and signature) vs raw verify', ours: '', baseline: '', kind: 'time', target: 1.3 }, cold.oursMs, cold.baselineMs),
  row({ name: 'verify again, same list of keys (signature held before: cached) vs raw verify', ours: '', baseline: '', kind: 'time' }, same.oursMs, same.baselineMs),
  row({ name: 'license.has vs Set.has', ours: '', baseline: '', kind: 'time', target: 1.5 }, periodOf(bench, 'license.has(feature)'), periodOf(bench, 'Set.has(feature)')),
], { keyLength: key.length, sink });
