/**
 * `licit fingerprint`: the documented JSON shape, no raw identifiers in the output, --salt or
 * --public-key (no default salt), the strength, --explain, and the fallback source when the addon
 * is disabled (LICIT_NO_NATIVE=1).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saltForVendor } from '../src/node/fingerprint/salt.js';
import { loadNative } from '../src/node/fingerprint/native.js';
import { makeVendor } from './helpers/vendor.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KINDS = ['system-uuid', 'system-serial', 'board-serial', 'board', 'chassis-serial', 'cpu', 'mac', 'mac-local', 'machine-id'];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/licit.cjs'), 'fingerprint', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { ...r, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('licit fingerprint', () => {
  it('prints exactly the documented JSON object', () => {
    const r = cli(['--json', '--salt', 'com.example.app']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = r.json();
    expect(Object.keys(j)).toEqual(['ok', 'source', 'virtual', 'container', 'fingerprint', 'components', 'strength']);
    expect(j.ok).toBe(true);
    expect(j.source).toBe(loadNative() === undefined ? 'fallback' : 'native');
    expect(typeof j.virtual).toBe('boolean');
    expect(typeof j.container).toBe('boolean');
    expect(j.fingerprint).toMatch(/^fp1:[a-z]{2}=[\w-]{16}(,[a-z]{2}=[\w-]{16})*$/);
    const components = j.components as Array<Record<string, unknown>>;
    expect(components.length).toBeGreaterThan(0);
    for (const c of components) {
      expect(Object.keys(c)).toEqual(['kind', 'name', 'value']);
      expect(KINDS).toContain(c.kind);
      expect(c.value).toMatch(/^[\w-]{16}$/);
    }
    const strength = j.strength as { level: string; strong: string[]; weak: string[]; why: string };
    expect(Object.keys(strength)).toEqual(['level', 'strong', 'weak', 'why']);
    expect(['strong', 'weak']).toContain(strength.level);
    expect([...strength.strong, ...strength.weak].sort()).toEqual([...new Set(components.map((c) => c.kind as string))].sort());
    expect(cli(['--salt', 'com.example.app']).stdout).toMatch(/^strength: (strong|WEAK)\. /m);
  });

  it('has no default salt: without --salt or --public-key it is ERR_USAGE (exit 2) naming both', () => {
    for (const args of [['--json'], ['--json', '--salt='], ['--json', '--adapters'], ['--json', '--machine-id', 'pod-1']]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      const error = r.json().error as { code: string; message: string };
      expect(error.code).toBe('ERR_USAGE');
      expect(error.message).toContain('--salt');
      expect(error.message).toContain('--public-key');
    }
  });

  it('--public-key FILE uses the salt derived from the vendor key, as Licensing does without a salt', () => {
    const vendor = makeVendor();
    try {
      const viaKey = cli(['--json', '--public-key', vendor.pubPath]).json();
      expect(viaKey.fingerprint).toBe(cli(['--json', '--salt', saltForVendor(readFileSync(vendor.pubPath, 'utf8'))]).json().fingerprint);
      expect(cli(['--json', '--public-key', vendor.pubPath, '--salt', 'x']).json().error).toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('not both') });
      const missing = cli(['--json', '--public-key', join(vendor.dir, 'nope.pub')]);
      expect(missing.status).toBe(2);
      expect(cli(['--json', '--public-key', vendor.keyPath]).json().error).toMatchObject({ code: 'ERR_PUBLIC_KEY_INVALID' });
    } finally {
      rmSync(vendor.dir, { recursive: true, force: true });
    }
  });

  it('never prints a raw MAC address or machine id', () => {
    const out = cli(['--salt', 's']).stdout + cli(['--json', '--salt', 's']).stdout + cli(['--salt', 's', '--adapters']).stdout;
    expect(out).toContain('fp1:');
    const raws: string[] = [];
    try {
      raws.push(readFileSync('/etc/machine-id', 'utf8').trim());
    } catch {
      // not Linux, or no machine id
    }
    try {
      for (const n of readdirSync('/sys/class/net')) {
        const mac = readFileSync(`/sys/class/net/${n}/address`, 'utf8').trim();
        if (mac !== '00:00:00:00:00:00') raws.push(mac);
      }
    } catch {
      // not Linux
    }
    for (const raw of raws.filter((x) => x !== '')) expect(out.toLowerCase()).not.toContain(raw.toLowerCase());
  });

  it('the salt changes every component; the same salt gives the same string', () => {
    const a = cli(['--json', '--salt', 'one']).json();
    const b = cli(['--json', '--salt', 'two']).json();
    expect(cli(['--json', '--salt', 'one']).json().fingerprint).toBe(a.fingerprint);
    const av = (a.components as Array<{ value: string }>).map((c) => c.value);
    for (const c of b.components as Array<{ value: string }>) expect(av).not.toContain(c.value);
  });

  it('--explain says what changed', () => {
    const fp = cli(['--json', '--salt', 's']).json().fingerprint as string;
    const same = cli(['--json', '--salt', 's', '--explain', fp]).json();
    expect(same.explain).toMatchObject({ ok: true, score: 1, changed: [] });
    // Another machine: every hash different.
    const other = fp.replace(/=[\w-]{16}/g, (m) => `=${m.slice(1, 16).split('').reverse().join('')}X`);
    const r = cli(['--salt', 's', '--explain', other]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('does not match');
    expect(r.stdout).toContain('CHANGED');
    const j = cli(['--json', '--salt', 's', '--explain', other]).json();
    expect((j.explain as { ok: boolean }).ok).toBe(false);
  });

  it('a malformed stored fingerprint is ERR_FINGERPRINT_MALFORMED (exit 1), a bad flag ERR_USAGE (exit 2)', () => {
    const r = cli(['--json', '--salt', 's', '--explain', 'not-a-fingerprint']);
    expect(r.status).toBe(1);
    expect((r.json().error as { code: string }).code).toBe('ERR_FINGERPRINT_MALFORMED');
    expect(cli(['--bogus']).status).toBe(2);
  });

  it('refuses an extra argument with ERR_USAGE (exit 2), naming it', () => {
    const r = cli(['extra', '--json']);
    expect(r.status).toBe(2);
    const error = r.json().error as { code: string; message: string };
    expect(error.code).toBe('ERR_USAGE');
    expect(error.message).toContain('"extra"');
  });

  it('--machine-id changes the fingerprint, not whether the machine is virtual or containerised', () => {
    const hardware = cli(['--json', '--salt', 's']).json();
    const supplied = cli(['--json', '--salt', 's', '--machine-id', 'pod-7f3a']).json();
    expect(supplied.source).toBe('supplied');
    expect({ virtual: supplied.virtual, container: supplied.container }).toEqual({ virtual: hardware.virtual, container: hardware.container });
    const text = cli(['--salt', 's', '--machine-id', 'pod-7f3a']).stdout;
    expect(text).toContain(`virtual: ${hardware.virtual === true ? 'yes' : 'no'}`);
  });

  it('a fingerprint out of the canonical order is refused by --explain and by `licit issue --fingerprint`', () => {
    const misordered = 'fp1:mc=aiG-an560b0UWG7H,cp=ipHsqT0n6hT8wzW8';
    const r = cli(['--json', '--salt', 's', '--explain', misordered]);
    expect(r.status).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'ERR_FINGERPRINT_MALFORMED', message: expect.stringContaining('in the order su ss bs bd cs cp mi mc ml') });
    const vendor = makeVendor();
    const issued = spawnSync(process.execPath, [join(ROOT, 'bin/licit.cjs'), 'issue', '--signing-key', vendor.keyPath, '--fingerprint', misordered, '--json'], { encoding: 'utf8' });
    expect(issued.status).toBe(1);
    expect(JSON.parse(issued.stdout).error.code).toBe('ERR_FINGERPRINT_MALFORMED');
    rmSync(vendor.dir, { recursive: true, force: true });
  });

  it.runIf(process.platform === 'linux')('--adapters lists the adapters used and why the others are left out', () => {
    const j = cli(['--json', '--salt', 's', '--adapters']).json();
    const a = j.adapters as { used: string[]; rejected: Array<{ name: string; reason: string }> };
    expect(a.rejected).toContainEqual({ name: 'lo', reason: 'loopback' });
    const all = [...a.used, ...a.rejected.map((r) => r.name)].sort();
    expect(all).toEqual(readdirSync('/sys/class/net').sort());
    expect((j.components as Array<{ kind: string; name: string }>).filter((c) => c.kind === 'mac' || c.kind === 'mac-local').map((c) => c.name).sort()).toEqual(a.used);
    const text = cli(['--salt', 's', '--adapters']).stdout;
    expect(text).toContain('left out: loopback');
  });

  it('LICIT_NO_NATIVE=1 uses the JavaScript fallback and says so', () => {
    const j = cli(['--json', '--salt', 'x'], { LICIT_NO_NATIVE: '1' }).json();
    expect(j.source).toBe('fallback');
    if (loadNative() !== undefined && process.platform === 'linux') {
      // On Linux the fallback reads the same facts: the same fingerprint.
      expect(j.fingerprint).toBe(cli(['--json', '--salt', 'x']).json().fingerprint);
    }
  });
});

describe('the CommonJS bundle that serves `licit fingerprint`', () => {
  const BUNDLE = join(ROOT, 'dist/cli/fingerprint.cjs');
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'licit-bundle-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  // The same verb through the ES module CLI, bypassing the bin's choice of the bundle.
  const viaEsm = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import { main } from ${JSON.stringify(join(ROOT, 'dist/cli/main.js'))}; process.exitCode = await main(${JSON.stringify(['fingerprint', ...args])});`], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  it('is what the bin runs for this verb, and no ES module is loaded; other verbs load the ES module CLI', () => {
    // A preloaded probe reports, at exit, whether the bundle was required and whether Node had to
    // start its ES module machinery (module jobs exist only once an ES module is loaded).
    const probe = join(tmp, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => process.stderr.write('PROBE' + JSON.stringify({ bundle: Object.keys(require.cache).includes(${JSON.stringify(BUNDLE)}), esm: process.moduleLoadList.includes('NativeModule internal/modules/esm/module_job') })));`);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['-r', probe, join(ROOT, 'bin/licit.cjs'), ...args], { encoding: 'utf8' });
      return JSON.parse(r.stderr.slice(r.stderr.indexOf('PROBE') + 5)) as { bundle: boolean; esm: boolean };
    };
    expect(run('fingerprint', '--json', '--salt', 's')).toEqual({ bundle: true, esm: false });
    expect(run('--json', 'fingerprint', '--salt', 's', '--explain', 'fp1:cp=AAAAAAAAAAAAAAAA')).toEqual({ bundle: true, esm: false });
    const vendor = makeVendor();
    expect(run('fingerprint', '--json', '--public-key', vendor.pubPath)).toEqual({ bundle: true, esm: false });
    rmSync(vendor.dir, { recursive: true, force: true });
    expect(run('inspect', '--help')).toEqual({ bundle: false, esm: true });
  });

  it('prints exactly what the ES module CLI prints, for results, --explain, --adapters, the fallback and errors', () => {
    const vendor = makeVendor();
    const cases: Array<[string[], Record<string, string>]> = [
      [['--json', '--salt', 'com.example.app'], {}],
      [['--salt', 'com.example.app'], {}],
      [['--json', '--public-key', vendor.pubPath], {}],
      [['--json', '--salt', 's', '--adapters'], {}],
      [['--json', '--salt', 's', '--explain', 'fp1:cp=AAAAAAAAAAAAAAAA'], {}],
      [['--json', '--salt', 's', '--explain', 'not-a-fingerprint'], {}],
      [['--json'], {}],
      [['--json', '--bogus'], {}],
      [['extra', '--json'], {}],
      [['--help'], {}],
      [['--json', '--salt', 's'], { LICIT_NO_NATIVE: '1' }],
    ];
    for (const [args, env] of cases) {
      const bundled = cli(args, env);
      const esm = viaEsm(args, env);
      expect(bundled.stdout, args.join(' ')).toBe(esm.stdout);
      expect(bundled.stderr, args.join(' ')).toBe(esm.stderr);
      expect(bundled.status, args.join(' ')).toBe(esm.status);
    }
    rmSync(vendor.dir, { recursive: true, force: true });
  });
});
