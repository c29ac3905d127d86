/**
 * How strong a fingerprint is: software-assigned MACs get their own code (`ml`), weak components
 * (CPU, board model, `ml`) never make a match by themselves, `fingerprintStrength` judges a string
 * alone, `licit issue` refuses weak ones, the end user's environment supplies no machine id unless
 * the application opts in, and there is no salt shared by every vendor.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostFacts } from '../src/node/fingerprint/facts.js';
import { physicalFacts } from './helpers/host-facts.js';
import { COMPONENT_KINDS, explain, Fingerprint, fingerprintStrength, getFingerprint, hashComponent, isStrongKind, match, saltForVendor, STRONG_KINDS, WEAK_KINDS, type ComponentKind, type FingerprintComponent, type MatchStrategy } from '../src/node/fingerprint/index.js';
import { isSharedMac } from '../src/node/fingerprint/rules.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { licit, LICIT_BIN } from './helpers/cli.js';
import { inMountNamespace } from './helpers/mount-namespace.js';
import { makeVendor } from './helpers/vendor.js';

const SALT = 'com.example.app';
const vendor = makeVendor();
const dirs: string[] = [vendor.dir];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-27-'));
  dirs.push(d);
  return d;
};

const VECTORS = JSON.parse(readFileSync(new URL('./vectors/fingerprint-strength.json', import.meta.url), 'utf8')) as {
  saltForVendor: Array<{ name: string; publicKey: string; publicKeyPem: string; salt: string }>;
  macs: Array<{ mac: string; shared: boolean; why: string }>;
  strength: Array<{ fingerprint: string; level: 'strong' | 'weak'; strong: string[]; weak: string[]; why: string }>;
};

/** A cloud / microVM guest without SMBIOS: a CPU, a machine id and the hypervisor's default MAC. */
function guest(machineId: string, over: Partial<HostFacts> = {}): HostFacts {
  return {
    source: 'native',
    smbiosSource: 'none',
    smbios: null,
    cpu: { vendor: 'AuthenticAMD', signature: '00a00f11', brand: 'AMD EPYC 7R13', hypervisor: true, hypervisorVendor: 'KVMKVMKVM' },
    adapters: [{ name: 'eth0', mac: '02:fc:00:00:00:01', origin: 'current' }],
    machineId,
    ...over,
  };
}

/** A physical machine with SMBIOS serials, read as root. */
const physical = physicalFacts;

const fp = (f: HostFacts, salt = SALT) => Fingerprint.fromFacts(f, { salt });

/** Every built-in strategy, and weights that favour the weak kinds as far as they go. */
const STRATEGIES: MatchStrategy[] = [
  'most',
  'all',
  { atLeast: 0 },
  { atLeast: 1 },
  { atLeast: 2 },
  { atLeast: 3 },
  { mode: 'most', weights: { cpu: 100, 'mac-local': 100, board: 100 } },
  { mode: 'all', weights: { 'machine-id': 0 } },
  { atLeast: 1, weights: { 'machine-id': 0, cpu: 50 } },
];

describe('software-assigned MACs are a kind of their own (ml)', () => {
  it('classifies MACs as the vectors say: locally administered and hypervisor OUIs are shared', () => {
    for (const v of VECTORS.macs) expect(isSharedMac(v.mac), `${v.mac}: ${v.why}`).toBe(v.shared);
  });

  it('a locally administered MAC makes an ml component, after mc in the string; the addon and the fallback alike', () => {
    for (const source of ['native', 'fallback'] as const) {
      const f = fp(guest('aaaa', { source, adapters: [{ name: 'eth0', mac: '02:fc:00:00:00:01', origin: 'current' }, { name: 'eth1', mac: '00:1b:21:99:99:99', origin: 'current' }] }));
      expect(f.components.map((c) => c.kind)).toEqual(['cpu', 'machine-id', 'mac', 'mac-local']);
      expect(f.toString()).toMatch(/^fp1:cp=[\w-]{16},mi=[\w-]{16},mc=[\w-]{16},ml=[\w-]{16}$/);
      expect(f.of('mac-local')[0]!.name).toBe('eth0');
      expect(Fingerprint.parse(f.toString()).toString()).toBe(f.toString());
    }
    // A hypervisor's OUI too: a config line sets it.
    expect(fp(guest('a', { adapters: [{ name: 'ens192', mac: '00:50:56:aa:bb:cc', origin: 'current' }] })).of('mac-local')).toHaveLength(1);
    // A vendor-assigned one stays mc.
    expect(fp(physical()).of('mac-local')).toEqual([]);
  });

  it('strings written before ml existed still parse and keep their meaning', () => {
    const old = 'fp1:cp=DCrp3qJm_9FDpRS0,mi=Gc2_xDgDPEOxcuzY,mc=4nz53SE4DPicTxR2';
    expect(Fingerprint.parse(old).toString()).toBe(old);
    expect(fingerprintStrength(old)).toMatchObject({ level: 'strong', strong: ['machine-id', 'mac'], weak: ['cpu'] });
  });

  it('a MAC hashes alike under mc and ml, so a license from before ml still finds its adapter, as weak evidence only', () => {
    expect(hashComponent(SALT, 'mac-local', '02:FC:00:00:00:01')).toBe(hashComponent(SALT, 'mac', '02:fc:00:00:00:01'));
    // What the former code wrote for this guest: the shared MAC under mc.
    const legacy = (id: string) => {
      const now = fp(guest(id));
      return new Fingerprint([...now.components.filter((c) => c.kind !== 'mac-local'), { kind: 'mac', name: 'eth0', value: hashComponent(SALT, 'mac', '02:fc:00:00:00:01') }], 'parsed').toString();
    };
    const stored = legacy('0f2b1d8e6a3c4b5d9e8f7a6b5c4d3e2f');
    expect(stored).toMatch(/^fp1:cp=[\w-]{16},mi=[\w-]{16},mc=[\w-]{16}$/);
    // The same guest, read now: every kind the same, even under "all".
    expect(match(stored, fp(guest('0f2b1d8e6a3c4b5d9e8f7a6b5c4d3e2f')), 'all')).toMatchObject({ ok: true, changed: [], strength: 'strong' });
    // Another guest: the old mc entry is found, but only as a software-assigned MAC; no strategy matches.
    const other = fp(guest('7c9e1a2b3d4f5e6a7b8c9d0e1f2a3b4c'));
    for (const st of STRATEGIES) expect(match(stored, other, st).ok, JSON.stringify(st)).toBe(false);
    const e = explain(stored, other);
    expect(e.text.split('\n')[0]).toContain('only components many machines share are the same (cpu, mac)');
    expect(e.text).toMatch(/mac\s+weight 2\s+same \[1 stored, 0 now\] \(found only as a software-assigned MAC: weak\)/);
  });
});

describe('weak components never make a match by themselves', () => {
  it('the attack: a second guest of the same kind (same CPU, same default MAC, another machine id) does not match, under any strategy', () => {
    const a = fp(guest('0f2b1d8e6a3c4b5d9e8f7a6b5c4d3e2f'));
    const b = fp(guest('7c9e1a2b3d4f5e6a7b8c9d0e1f2a3b4c'));
    expect(a.toString()).toMatch(/^fp1:cp=[\w-]{16},mi=[\w-]{16},ml=[\w-]{16}$/);
    for (const s of STRATEGIES) {
      const r = match(a, b, s);
      expect(r.ok, JSON.stringify(s)).toBe(false);
      expect(r.strength).toBe('weak');
      expect(match(a.toString(), b.toString(), s).ok).toBe(false);
    }
    const e = explain(a, b);
    expect(e.ok).toBe(false);
    expect(e.text.split('\n')[0]).toContain('only components many machines share are the same (cpu, mac-local)');
    expect(e.text).toMatch(/mac-local\s+weight 1\s+same \[1 stored, 1 now\] \(weak: shared by many machines\)/);
    // The same guest still matches itself, on its machine id.
    expect(match(a, fp(guest('0f2b1d8e6a3c4b5d9e8f7a6b5c4d3e2f')))).toMatchObject({ ok: true, strength: 'strong' });
  });

  it('a machine with SMBIOS keeps its license after a new network card, a new CPU or a reinstall', () => {
    const stored = fp(physical());
    const nic = fp(physical({ adapters: [{ name: 'eth9', mac: '00:1b:21:99:99:99', origin: 'current' }] }));
    expect(match(stored, nic)).toMatchObject({ ok: true, changed: ['mac'], strength: 'strong' });
    const reinstall = fp(physical({ machineId: 'ffffffffffffffffffffffffffffffff', cpu: { ...physical().cpu, signature: '000906ea' } }));
    expect(match(stored, reinstall)).toMatchObject({ ok: true, strength: 'strong' });
    // A VM's replaced software-assigned NIC too, on the strength of its machine id.
    const vm = fp(guest('abc'));
    expect(match(vm, fp(guest('abc', { adapters: [{ name: 'eth0', mac: '02:fc:00:00:00:09', origin: 'current' }] }))).ok).toBe(true);
  });

  it('strong components this process cannot read leave nothing strong to compare: no match, and explain says to run as root', () => {
    const facts = physical();
    const partial = { ...facts.smbios!, system: { manufacturer: 'LENOVO', product: '20L8S07A14' }, baseboard: { manufacturer: 'LENOVO', product: '20L8S07A14' }, chassis: {} };
    const stored = fp(physical({ adapters: [], machineId: '' }));
    const asUser = fp(physical({ smbiosSource: 'sysfs-dmi-id', smbios: partial, adapters: [], machineId: '' }));
    expect(match(stored, asUser, 'most')).toMatchObject({ ok: false, strength: 'weak' });
    expect(explain(stored, asUser).text.split('\n')[0]).toContain('run as administrator/root');
  });

  it('a weak-only stored fingerprint matches only an identical one, and says the match is weak', () => {
    const weakOnly = fp(guest(''));
    expect(fingerprintStrength(weakOnly).level).toBe('weak');
    expect(match(weakOnly, fp(guest('')))).toEqual({ ok: true, score: 1, changed: [], unavailable: [], strength: 'weak' });
    expect(explain(weakOnly, fp(guest(''))).text.split('\n')[0]).toContain('but only on components many machines share');
    // With an extra adapter, or any strong component, it is another machine as far as anyone can tell.
    expect(match(weakOnly, fp(guest('', { adapters: [...guest('').adapters, { name: 'eth1', mac: '02:fc:00:00:00:02', origin: 'current' }] }))).ok).toBe(false);
    expect(match(weakOnly, fp(guest('abc'))).ok).toBe(false);
    expect(explain(weakOnly, fp(guest('abc'))).text.split('\n')[0]).toContain('only an identical fingerprint matches it');
  });

  const hash = fc.stringMatching(/^[A-Za-z0-9_-]{16}$/);
  const single = COMPONENT_KINDS.filter((k) => k !== 'mac' && k !== 'mac-local');
  /** Any valid fingerprint's components, built from a pool of a few hashes so that some coincide. */
  const components = (pool: string[]) =>
    fc
      .tuple(fc.subarray(single), fc.array(fc.constantFrom(...pool), { minLength: single.length, maxLength: single.length }), fc.subarray(pool, { maxLength: Math.min(3, pool.length) }), fc.subarray(pool, { maxLength: Math.min(3, pool.length) }))
      .map(([kinds, hashes, macs, local]) => [
        ...kinds.map((kind, i): FingerprintComponent => ({ kind, name: kind, value: hashes[i]! })),
        ...macs.map((value, i): FingerprintComponent => ({ kind: 'mac', name: `eth${i}`, value })),
        ...local.map((value, i): FingerprintComponent => ({ kind: 'mac-local', name: `ens${i}`, value })),
      ]);
  const strategy: fc.Arbitrary<MatchStrategy> = fc.oneof(
    fc.constantFrom<MatchStrategy>('all', 'most'),
    fc.record({ atLeast: fc.double({ min: 0, max: 20, noNaN: true }), weights: fc.dictionary(fc.constantFrom(...COMPONENT_KINDS), fc.integer({ min: -2, max: 50 })) }),
    fc.record({ mode: fc.constantFrom<'all' | 'most'>('all', 'most'), weights: fc.dictionary(fc.constantFrom(...COMPONENT_KINDS), fc.integer({ min: -2, max: 50 })) }),
  );
  const pair = fc.uniqueArray(hash, { minLength: 2, maxLength: 4 }).chain((pool) => fc.tuple(components(pool), components(pool)));
  const strongSame = (a: Fingerprint, b: Fingerprint) => a.components.some((c) => isStrongKind(c.kind) && b.components.some((d) => d.kind === c.kind && d.value === c.value));

  it('property: a match always rests on a strong component both share, or on two identical weak-only fingerprints', () => {
    fc.assert(
      // Identical pairs too: the one way a weak-only fingerprint matches.
      fc.property(fc.oneof(pair, pair.map(([s]) => [s, s] as const)), strategy, ([s, c], st) => {
        const stored = new Fingerprint(s, 'parsed');
        const current = new Fingerprint(c, 'native');
        if (stored.components.length === 0) return;
        const r = match(stored, current, st);
        if (!r.ok) return;
        if (r.strength === 'strong') expect(strongSame(stored, current)).toBe(true);
        else {
          expect(fingerprintStrength(stored).level).toBe('weak');
          expect(current.toString()).toBe(stored.toString());
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('property: without a strong component in common, no strategy ever matches (weak ones may all agree)', () => {
    fc.assert(
      fc.property(pair, strategy, ([s, c], st) => {
        const stored = new Fingerprint(s, 'parsed');
        if (!stored.components.some((x) => isStrongKind(x.kind))) return;
        // Copy every weak component of the stored one into the current one: what a second VM of the same type has.
        const weak = s.filter((x) => !isStrongKind(x.kind));
        const current = new Fingerprint([...c.filter((x) => isStrongKind(x.kind) && !stored.components.some((y) => y.kind === x.kind && y.value === x.value)), ...weak], 'native');
        expect(match(stored, current, st).ok).toBe(false);
      }),
      { numRuns: 1500 },
    );
  });

  it('property: a weak-only fingerprint never matches a fingerprint with a strong component', () => {
    fc.assert(
      fc.property(pair, strategy, ([s, c], st) => {
        const weak = s.filter((x) => !isStrongKind(x.kind));
        if (weak.length === 0 || !c.some((x) => isStrongKind(x.kind))) return;
        // Even when it has every weak component of the stored one.
        expect(match(new Fingerprint(weak, 'parsed'), new Fingerprint([...c.filter((x) => isStrongKind(x.kind)), ...weak], 'native'), st).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('fingerprintStrength', () => {
  it('says what the vectors say, from the string alone', () => {
    for (const v of VECTORS.strength) {
      const s = fingerprintStrength(v.fingerprint);
      expect({ level: s.level, strong: s.strong, weak: s.weak }, v.why).toEqual({ level: v.level, strong: v.strong, weak: v.weak });
      expect(fingerprintStrength(Fingerprint.parse(v.fingerprint))).toEqual(s);
      expect(s.why.length).toBeGreaterThan(10);
    }
  });

  it('every kind is strong or weak, never both', () => {
    expect([...STRONG_KINDS, ...WEAK_KINDS].sort()).toEqual([...COMPONENT_KINDS].sort());
    for (const k of COMPONENT_KINDS) expect(isStrongKind(k)).toBe(STRONG_KINDS.includes(k));
  });

  it('explains itself: what to do with a weak one, the machine id caveat, unreadable serials', () => {
    const weak = fingerprintStrength('fp1:cp=AAAAAAAAAAAAAAAA,ml=BBBBBBBBBBBBBBBB');
    expect(weak.why).toContain('cpu, mac-local');
    expect(weak.why).toContain('machine id the vendor approves');
    expect(weak.why).toContain('floating seat');
    expect(fingerprintStrength('fp1:cp=AAAAAAAAAAAAAAAA,mi=CCCCCCCCCCCCCCCC,ml=BBBBBBBBBBBBBBBB').why).toContain('disk image');
    const partial = { ...physical().smbios!, system: { manufacturer: 'LENOVO' }, baseboard: { manufacturer: 'LENOVO', product: 'X' }, chassis: {} };
    const asUser = fp(physical({ smbiosSource: 'sysfs-dmi-id', smbios: partial, adapters: [], machineId: '' }));
    expect(fingerprintStrength(asUser)).toMatchObject({ level: 'weak', weak: ['board', 'cpu'] });
    expect(fingerprintStrength(asUser).why).toContain('root');
  });

  it('refuses what is not a fingerprint: malformed strings as ERR_FINGERPRINT_MALFORMED, other values as ERR_USAGE', () => {
    expect(() => fingerprintStrength('fp1:zz=AAAAAAAAAAAAAAAA')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
    expect(() => fingerprintStrength('fp1:ml=AAAAAAAAAAAAAAAA,mc=BBBBBBBBBBBBBBBB')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
    for (const bad of [undefined, null, 42, {}]) expect(() => fingerprintStrength(bad as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });

  it('property: strong exactly when a strong kind is present; strong and weak list the kinds present', () => {
    const kinds = fc.uniqueArray(fc.constantFrom(...COMPONENT_KINDS), { minLength: 1 });
    fc.assert(
      fc.property(kinds, (ks) => {
        const f = new Fingerprint(ks.map((kind, i): FingerprintComponent => ({ kind, name: kind, value: String(i).padStart(16, 'A') })), 'parsed');
        const s = fingerprintStrength(f.toString());
        expect(s.level).toBe(ks.some((k) => isStrongKind(k)) ? 'strong' : 'weak');
        expect([...s.strong, ...s.weak].sort()).toEqual([...ks].sort());
        expect(s.strong.every((k: ComponentKind) => isStrongKind(k))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('licit issue --fingerprint', () => {
  const weak = 'fp1:cp=AAAAAAAAAAAAAAAA,ml=BBBBBBBBBBBBBBBB';
  it('refuses to node-lock to a weak fingerprint with ERR_FINGERPRINT_WEAK, saying what to do', () => {
    const r = licit(['issue', '--signing-key', vendor.keyPath, '--fingerprint', weak, '--json']);
    expect(r.code).toBe(1);
    const error = r.json().error as { code: string; message: string; details?: unknown };
    expect(error.code).toBe('ERR_FINGERPRINT_WEAK');
    expect(error.message).toContain('--allow-weak-fingerprint');
    expect(error.message).toContain('--machine-id');
    expect(error.details).toEqual({ strong: [], weak: ['cpu', 'mac-local'] });
  });

  it('signs it with --allow-weak-fingerprint, and a strong one without', () => {
    const r = licit(['issue', '--signing-key', vendor.keyPath, '--fingerprint', weak, '--allow-weak-fingerprint', '--json']);
    expect(r.code, r.stdout).toBe(0);
    const strong = licit(['issue', '--signing-key', vendor.keyPath, '--fingerprint', 'fp1:cp=AAAAAAAAAAAAAAAA,mi=CCCCCCCCCCCCCCCC,ml=BBBBBBBBBBBBBBBB', '--json']);
    expect(strong.code, strong.stdout).toBe(0);
  });

  it('--allow-weak-fingerprint without --fingerprint is ERR_USAGE; a malformed fingerprint is still ERR_FINGERPRINT_MALFORMED', () => {
    expect(licit(['issue', '--signing-key', vendor.keyPath, '--allow-weak-fingerprint', '--json']).json().error?.code).toBe('ERR_USAGE');
    expect(licit(['issue', '--signing-key', vendor.keyPath, '--fingerprint', 'garbage', '--allow-weak-fingerprint', '--json']).json().error?.code).toBe('ERR_FINGERPRINT_MALFORMED');
  });
});

describe('no salt shared by every vendor', () => {
  it('saltForVendor gives the vector, from PEM text, raw bytes or a KeyObject alike', () => {
    for (const v of VECTORS.saltForVendor) {
      const raw = Uint8Array.from(Buffer.from(v.publicKey, 'hex'));
      expect(saltForVendor(v.publicKeyPem), v.name).toBe(v.salt);
      expect(saltForVendor(raw)).toBe(v.salt);
      expect(saltForVendor(createPublicKey(v.publicKeyPem))).toBe(v.salt);
      const expected = createHash('sha256').update(Buffer.concat([Buffer.from('licit-fp-salt\0'), raw])).digest().subarray(0, 16).toString('base64url');
      expect(v.salt).toBe(expected);
    }
  });

  it('differs per vendor, and refuses what is not an Ed25519 public key', () => {
    expect(saltForVendor(makeVendorKey())).not.toBe(saltForVendor(vendor.publicKeyPem));
    for (const bad of [vendor.privateKeyPem, 'nope', new Uint8Array(31), undefined]) expect(() => saltForVendor(bad as string)).toThrow(expect.objectContaining({ code: 'ERR_PUBLIC_KEY_INVALID' }));
  });

  it('Licensing without a salt uses the vendor salt of its first public key', async () => {
    const key = await vendor.issue({ licenseId: 'SALT-1' });
    const l = await Licensing.open({ license: key, publicKeys: [vendor.publicKeyPem, makeVendorKey()], dir: tmp(), secret: 'test-app-secret', autoRenew: false });
    expect(l.fingerprint).toBe((await getFingerprint({ salt: saltForVendor(vendor.publicKeyPem) })).toString());
    const withSalt = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: tmp(), salt: SALT, secret: 'test-app-secret', autoRenew: false });
    expect(withSalt.fingerprint).toBe((await getFingerprint({ salt: SALT })).toString());
    // A license node-locked to the fingerprint `licit fingerprint --public-key vendor.pub` prints verifies at run time.
    const printed = licit(['fingerprint', '--public-key', vendor.pubPath, '--json']).json().fingerprint as string;
    const locked = await vendor.issue({ licenseId: 'SALT-2', fingerprint: printed });
    expect((await Licensing.open({ license: locked, publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'test-app-secret', autoRenew: false })).license.id).toBe('SALT-2');
  });
});

describe('a supplied machine id is the application\'s choice, not the end user\'s', () => {
  const withEnv = async <T>(value: string, fn: () => Promise<T>): Promise<T> => {
    const before = process.env.LICIT_MACHINE_ID;
    process.env.LICIT_MACHINE_ID = value;
    try {
      return await fn();
    } finally {
      if (before === undefined) delete process.env.LICIT_MACHINE_ID;
      else process.env.LICIT_MACHINE_ID = before;
    }
  };

  it('Licensing ignores LICIT_MACHINE_ID unless the application sets machineIdFromEnv', async () => {
    // A license bound to a supplied id: with the variable read by default, any machine could claim it.
    const bound = `fp1:mi=${(await getFingerprint({ salt: saltForVendor(vendor.publicKeyPem), machineId: 'pod-7' })).of('machine-id')[0]!.value}`;
    const key = await vendor.issue({ licenseId: 'ENV-1', fingerprint: bound });
    await withEnv('pod-7', async () => {
      await expect(Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'test-app-secret', autoRenew: false })).rejects.toMatchObject({ code: 'ERR_FINGERPRINT_MISMATCH' });
      const plain = await Licensing.open({ license: await vendor.issue({ licenseId: 'ENV-2' }), publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'test-app-secret', autoRenew: false });
      expect(plain.fingerprintSource).toBe('hardware');
      const optedIn = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'test-app-secret', autoRenew: false, machineIdFromEnv: true });
      expect(optedIn.fingerprintSource).toBe('operator');
      expect(optedIn.fingerprint).toBe(bound);
      // The application's own machineId still wins over the variable.
      const own = await Licensing.open({ license: await vendor.issue({ licenseId: 'ENV-3' }), publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'test-app-secret', autoRenew: false, machineId: 'app-choice', machineIdFromEnv: true });
      expect(own.fingerprint).not.toBe(bound);
    });
  });

  it('the CLI reads no LICIT_MACHINE_ID: `licit request` uses the hardware unless --machine-id is given', async () => {
    const key = await vendor.issue({ licenseId: 'ENV-CLI' });
    const env = { LICIT_MACHINE_ID: 'pod-7', LICIT_SECRET: 'test-app-secret' };
    const r = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--dir', tmp(), '--json'], { env });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().fingerprintSource).toBe('hardware');
    const flag = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--dir', tmp(), '--machine-id', 'pod-7', '--json'], { env });
    expect(flag.json().fingerprintSource).toBe('operator');
  });
});

describe('the attack on this machine', () => {
  // The report: a node-locked key verified as VALID in a mount namespace whose /etc/machine-id was
  // different, because the CPU and a hypervisor-default MAC were left to match. Run for real.
  it.runIf(process.platform === 'linux')('another /etc/machine-id is another machine unless a strong component other than the machine id still matches', async (ctx) => {
    const salt = 'attack-test';
    const here = (await getFingerprint({ salt })).toString();
    if (!/\bmi=/.test(here)) ctx.skip('this machine has no machine id to replace');
    const key = await vendor.issue({ licenseId: 'ATTACK', fingerprint: here });
    const dir = tmp();
    writeFileSync(join(dir, 'machine-id'), '0123456789abcdef0123456789abcdef\n');
    const r = inMountNamespace(ctx, `mount --bind ${dir}/machine-id /etc/machine-id && { [ ! -e /var/lib/dbus/machine-id ] || mount --bind ${dir}/machine-id /var/lib/dbus/machine-id; }`, [process.execPath, LICIT_BIN, 'verify', '--public-key', vendor.pubPath, '--salt', salt, key, '--json']);
    const out = JSON.parse(r.stdout) as { ok: boolean; error?: { code: string } };
    // Serials, the board's UUID or a vendor-assigned MAC identify the same hardware; without
    // them, what is left (CPU model, default MAC) is what every such guest has.
    const otherStrong = /\b(su|ss|bs|cs|mc)=/.test(here);
    if (otherStrong) expect(out.ok, r.stdout).toBe(true);
    else expect(out.error?.code, r.stdout).toBe('ERR_FINGERPRINT_MISMATCH');
  });
});

function makeVendorKey(): string {
  const v = makeVendor();
  dirs.push(v.dir);
  return v.publicKeyPem;
}
