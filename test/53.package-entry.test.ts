/**
 * The package as an application imports it, through the exports map: `licit` (runtime-neutral by
 * default, with node:crypto under the `node` condition), `licit/seats`, `licit/admin`,
 * `licit/fingerprint`, `licit/node`, `licit/issuer`. Holds the public export lists fixed (a name
 * added or removed fails here) and proves that the default-condition graph of each neutral entry,
 * walked through the built files and bundled with its dependencies, never imports from `node:`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { distGraph, isNodeBuiltin } from './helpers/dist-graph.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  sideEffects: string[];
  exports: Record<string, string | Record<string, string | Record<string, string>>>;
  dependencies: Record<string, string>;
};

/** The verify side: what `licit` exports in every runtime. */
const ROOT_NEUTRAL = [
  'ClockGuard',
  'ERROR_CODES',
  'License',
  'LicenseError',
  'SealKey',
  'claimsToJSON',
  'evaluateStatus',
  'getEd25519Backend',
  'inspectLicense',
  'isLicenseError',
  'keyId',
  'nobleBackend',
  'setAeadBackend',
  'setEd25519Backend',
  'verifyLicense',
  'verifyTopUp',
  'webcryptoAead',
  'webcryptoBackend',
];
/** Node-only names `licit` exported before it became neutral; their home is `licit/node`, the node condition keeps them. */
const ROOT_NODE_ONLY = ['SealedFile', 'fileClockGuard', 'nodeAead', 'nodeBackend'];
const SEATS = ['AUDIT_KINDS', 'Activations', 'FloatingSeats', 'MemoryStore', 'SeatManager'];
const ADMIN = [
  'ADMIN_KINDS',
  // A license's alert settings (thresholds, automatic top-ups, recipients): the checker, the
  // record, the rules they make for an AlertMonitor, and who hears of what.
  'NOTIFICATION_KINDS',
  'checkSettings',
  'readSettings',
  'recipientsFor',
  'saveSettings',
  'settingsJson',
  'settingsRules',
  'changeLicenseState',
  'computeVendorReport',
  'currentKeyText',
  'findLicenses',
  'recordIssue',
  'resolveZonedRange',
  'showLicense',
  'AlertMonitor',
  'EVENT_KINDS',
  'MAX_RANGE_MS',
  'USER_AUTH_KINDS',
  'buildReport',
  'checkRules',
  'computeReport',
  'evaluateAlerts',
  'isAuditChained',
  'monthStart',
  'parseRangeText',
  'readVerifiedLog',
  'recordCreditTopUp',
  'recordCreditUsage',
  'recordSeatsChange',
  'resolveRange',
  'seatsObservation',
  'verifyAuditLog',
  'withAuditChain',
];
const FINGERPRINT = ['COMPONENT_KINDS', 'DEFAULT_WEIGHTS', 'Fingerprint', 'STRONG_KINDS', 'WEAK_KINDS', 'explain', 'fingerprintStrength', 'isStrongKind', 'match', 'saltForVendor'];
const FINGERPRINT_NODE_ONLY = ['clearFingerprintCache', 'getFingerprint', 'readHostFacts'];
/** Internals that were once on the root and must not be on any public entry. */
const INTERNALS = ['CHAIN_FIELD', 'HEAD_KEY', 'HEAD_KIND', 'linkEvent', 'rawEvents', 'canonicalJson', 'readCounters', 'genesisHash', 'eventHash', 'isAuditHead', 'auditEvent', 'adminEvent', 'checkLimits', 'exhausted', 'hashComponent'];

/** The runtime-neutral entries: subpath -> the file the default condition serves. */
const NEUTRAL_ENTRIES = { '.': 'dist/index.js', './seats': 'dist/seats.js', './admin': 'dist/admin.js', './fingerprint': 'dist/fingerprint.js' } as const;

/** The file an exports target serves under `conditions` (first match, in the map's own order). */
function target(entry: string | Record<string, unknown>, conditions: readonly string[]): string | undefined {
  if (typeof entry === 'string') return entry;
  for (const [cond, next] of Object.entries(entry)) {
    if (cond === 'default' || conditions.includes(cond)) return target(next as string | Record<string, unknown>, conditions);
  }
  return undefined;
}

const keysOf = async (file: string) => Object.keys((await import(new URL(`../${file}`, import.meta.url).href)) as object).sort();

describe('package entry points', () => {
  it('an application using the README quick start through the exports map', () => {
    const r = spawnSync(process.execPath, [new URL('./fixtures/package-consumer.mjs', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('second seat: ERR_SEATS_EXHAUSTED');
    expect(r.stdout).toContain('log events: 1');
    expect(r.stdout).toContain('consume: ERR_CREDITS_EXHAUSTED');
    expect(r.stdout).toMatch(/^fp1:/m);
    expect(r.stdout).toMatch(/^vendor salt strength: (strong|weak)$/m);
  });

  it('licit --version and -v print the package version', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const bin = new URL('../bin/licit.cjs', import.meta.url).pathname;
    for (const flag of ['--version', '-v']) {
      const r = spawnSync(process.execPath, [bin, flag], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
    const j = spawnSync(process.execPath, [bin, '--json', '--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(j.stdout)).toEqual({ ok: true, version });
  });

  it('require("licit") works (require(esm), Node >= 20.19, which engines.node states)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20.19');
    const r = spawnSync(process.execPath, ['-e', "const l = require('licit'); const n = require('licit/node'); console.log(typeof l.verifyLicense, typeof n.getFingerprint)"], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: new URL('..', import.meta.url).pathname,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('function function\n');
    expect(r.stderr).not.toContain('ExperimentalWarning');
  });

  it('sideEffects lists every built module that installs a backend at import, directly or by importing one that does', () => {
    const dist = new URL('../dist/', import.meta.url);
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.js') && !f.startsWith('cli/')).map((f) => f.split('\\').join('/'));
    const text = new Map(files.map((f) => [f, readFileSync(new URL(f, dist), 'utf8')]));
    // Installs a backend itself, or imports for effect (`import './x.js';`) a module that does.
    const effectful = new Set(files.filter((f) => /^set\w+Backend\(/m.test(text.get(f)!)));
    for (let grew = true; grew; ) {
      grew = false;
      for (const f of files) {
        if (effectful.has(f)) continue;
        const imported = [...text.get(f)!.matchAll(/^import '(\.[^']*)';/gm)].map((m) => new URL(m[1]!, new URL(f, dist)).pathname.slice(dist.pathname.length));
        if (imported.some((i) => effectful.has(i))) grew = effectful.add(f) !== undefined;
      }
    }
    expect([...pkg.sideEffects].sort()).toEqual([...effectful].map((f) => `./dist/${f}`).sort());
    // The neutral entries have no effect: a bundler may drop what an app does not use.
    for (const file of Object.values(NEUTRAL_ENTRIES)) expect(pkg.sideEffects).not.toContain(`./${file}`);
  });

  it('every export in package.json points at a built file with types, under each condition', () => {
    for (const [name, entry] of Object.entries(pkg.exports)) {
      if (typeof entry === 'string') continue;
      for (const conditions of [['node', 'import', 'types'], ['browser', 'import', 'types'], ['node', 'import'], ['browser', 'import']]) {
        const file = target(entry, conditions);
        expect(file, `${name} under ${conditions}`).toBeDefined();
        expect(() => readFileSync(new URL(`../${file}`, import.meta.url)), `${name} -> ${file}`).not.toThrow();
        // Types sit beside the code they describe.
        if (!conditions.includes('types')) expect(target(entry, [...conditions, 'types'])).toBe(file!.replace(/\.js$/, '.d.ts'));
      }
    }
  });

  it('the exports map: node gets the node:crypto entries, every other runtime the neutral ones', () => {
    for (const [subpath, file] of Object.entries(NEUTRAL_ENTRIES)) {
      expect(target(pkg.exports[subpath]!, ['browser', 'import']), subpath).toBe(`./${file}`);
      expect(target(pkg.exports[subpath]!, ['worker', 'import']), subpath).toBe(`./${file}`);
    }
    expect(target(pkg.exports['.']!, ['node', 'import'])).toBe('./dist/index.node.js');
    expect(target(pkg.exports['./fingerprint']!, ['node', 'import'])).toBe('./dist/fingerprint.node.js');
    // And Node resolves `licit` that way.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('licit'), import.meta.resolve('licit/fingerprint'))"], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split(' ').map((u) => u.slice(u.indexOf('/dist/') + 1))).toEqual(['dist/index.node.js', 'dist/fingerprint.node.js']);
  });

  it('the public export lists are exactly the decided ones, with no internals', async () => {
    expect(await keysOf('dist/index.js')).toEqual([...ROOT_NEUTRAL].sort());
    expect(await keysOf('dist/index.node.js')).toEqual([...ROOT_NEUTRAL, ...ROOT_NODE_ONLY].sort());
    expect(await keysOf('dist/seats.js')).toEqual([...SEATS].sort());
    expect(await keysOf('dist/admin.js')).toEqual([...ADMIN].sort());
    expect(await keysOf('dist/fingerprint.js')).toEqual([...FINGERPRINT].sort());
    expect(await keysOf('dist/fingerprint.node.js')).toEqual([...FINGERPRINT, ...FINGERPRINT_NODE_ONLY].sort());
    // The Node-only names have their home in licit/node.
    const node = await keysOf('dist/node/index.js');
    for (const name of [...ROOT_NODE_ONLY, ...FINGERPRINT_NODE_ONLY]) expect(node, name).toContain(name);
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      for (const conditions of [['node', 'import'], ['browser', 'import']]) {
        const file = target(entry, conditions)!;
        if (!file.endsWith('.js')) continue;
        const leaked = (await keysOf(file.slice(2))).filter((k) => INTERNALS.includes(k));
        expect(leaked, `${subpath} (${conditions[0]})`).toEqual([]);
      }
    }
  });

  it('the default-condition graph of each neutral entry imports nothing from node: (walked through dist/)', () => {
    const runtimeDeps = Object.keys(pkg.dependencies);
    for (const [subpath, file] of Object.entries(NEUTRAL_ENTRIES)) {
      const { modules, bare } = distGraph(ROOT, file);
      expect(modules.length, subpath).toBeGreaterThan(1);
      expect(modules.filter((m) => m.startsWith('dist/node/') || m.startsWith('dist/server/') || m.endsWith('.node.js')), `${subpath}: Node modules reached`).toEqual([]);
      expect(bare.filter((b) => isNodeBuiltin(b.spec)), `${subpath}: node: imports`).toEqual([]);
      // Packages it imports are licit's own runtime dependencies (checked for node: below, bundled).
      for (const b of bare) expect(runtimeDeps, `${b.from} imports ${b.spec}`).toContain(b.spec.startsWith('@') ? b.spec.split('/').slice(0, 2).join('/') : b.spec.split('/')[0]);
    }
    // The walker does see node: imports where there are some.
    expect(distGraph(ROOT, 'dist/index.node.js').bare.some((b) => b.spec === 'node:crypto')).toBe(true);
  });

  it('bundled with its dependencies for a runtime without Node (esbuild, platform neutral), no entry reaches node:', async () => {
    for (const [subpath, file] of Object.entries(NEUTRAL_ENTRIES)) {
      // platform "neutral" honours only the import/default conditions, and fails on a node: import
      // it cannot resolve; `browser` and `worker` add nothing of licit's own.
      const result = await build({ absWorkingDir: ROOT, entryPoints: [file], bundle: true, write: false, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], metafile: true, logLevel: 'silent' });
      const inputs = Object.values(result.metafile.inputs).flatMap((i) => i.imports.map((imp) => imp.path));
      expect(inputs.filter(isNodeBuiltin), subpath).toEqual([]);
      expect(result.outputFiles[0]!.text, subpath).not.toMatch(/["']node:/);
    }
  });
});
