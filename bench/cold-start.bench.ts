/**
 * Cold start: what an application pays, in a fresh process, to load licit and do its first job,
 * beside the package it would otherwise pick for the same job, measured in the same run and
 * alternated run by run (medians):
 *  - `import('licit')` + first `verifyLicense` vs `import('jose')` + first `jwtVerify` of an
 *    EdDSA token signed with the same kind of key: target <= 1.05x
 *  - `import('licit/fingerprint')` + first `getFingerprint` vs `node-machine-id`'s
 *    `machineIdSync()`: target <= 1.1x
 *  - `node -e 0` alone is printed for scale.
 * Each process resolves `licit` by package name (self-reference), as an installed app would.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, importPKCS8 } from 'jose';
import { generateKeyPair, issueLicense } from '../src/issuer/index.js';
import { QUICK, reportRows, row } from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(ROOT, 'dist/index.node.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  process.exit(0);
}

const pair = generateKeyPair();
const licenseKey = await issueLicense({ licenseId: 'LIC-COLD', customer: 'Acme', features: ['reports', 'export'], seats: { basic: 5 } }, { signingKey: pair.privateKeyPem });
const jwt = await new SignJWT({ sub: 'LIC-COLD', customer: 'Acme', features: ['reports', 'export'], seats: { basic: 5 } })
  .setProtectedHeader({ alg: 'EdDSA' })
  .setIssuedAt()
  .sign(await importPKCS8(pair.privateKeyPem, 'EdDSA'));

const env = { ...process.env, LICENSE_KEY: licenseKey, JWT: jwt, PUBLIC_KEY: pair.publicKeyPem, LICIT_NO_NATIVE: '' };
const programs = {
  bare: '0',
  licitVerify: "const { verifyLicense } = await import('licit'); const l = await verifyLicense(process.env.LICENSE_KEY, { publicKeys: [process.env.PUBLIC_KEY] }); if (!l.has('reports')) process.exit(1);",
  joseVerify: "const { jwtVerify, importSPKI } = await import('jose'); const r = await jwtVerify(process.env.JWT, await importSPKI(process.env.PUBLIC_KEY, 'EdDSA')); if (!r.payload.features.includes('reports')) process.exit(1);",
  licitFingerprint: "const { getFingerprint } = await import('licit/fingerprint'); const fp = await getFingerprint({ salt: 'com.example.cold' }); if (fp.source !== 'native') process.exit(1);",
  machineId: "const { default: m } = await import('node-machine-id'); if (m.machineIdSync().length < 16) process.exit(1);",
} as const;
type Program = keyof typeof programs;

function runMs(p: Program): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', programs[p]], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${p} failed (exit ${r.status}): ${r.stderr}`);
  return ms;
}

const runs = QUICK ? 11 : 41;
const times: Record<Program, number[]> = { bare: [], licitVerify: [], joseVerify: [], licitFingerprint: [], machineId: [] };
const order = Object.keys(programs) as Program[];
for (const p of order) runMs(p); // warm the file cache
for (let i = 0; i < runs; i++) for (const p of order) times[p].push(runMs(p));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number;
const m = Object.fromEntries(order.map((p) => [p, median(times[p])])) as Record<Program, number>;

console.log(`process medians over ${runs} runs (ms): ${order.map((p) => `${p} ${m[p].toFixed(1)}`).join(', ')}`);
reportRows(
  'cold-start',
  [
    row({ name: "fresh process: import('licit') + first verifyLicense vs import('jose') + first jwtVerify (EdDSA)", ours: 'licit', baseline: 'jose', kind: 'time', target: 1.05 }, m.licitVerify, m.joseVerify),
    row({ name: "fresh process: import('licit/fingerprint') + first getFingerprint vs node-machine-id machineIdSync", ours: 'licit/fingerprint', baseline: 'node-machine-id', kind: 'time', target: 1.1 }, m.licitFingerprint, m.machineId),
  ],
  { processMedianMs: m, runs },
);
