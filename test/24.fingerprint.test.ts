/**
 * Fingerprint: components from facts, salted hashing, the string form, tolerant matching,
 * explanations, the per-process cache and the two sources.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it, type TestContext } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { looksVirtual } from '../src/node/fingerprint/environment.js';
import type { HostFacts } from '../src/node/fingerprint/facts.js';
import { physicalFacts, physicalSmbios } from './helpers/host-facts.js';
import { signatureFromCpuinfo } from '../src/node/fingerprint/fallback.js';
import { hmacSha256, sha256 } from '../src/node/fingerprint/hmac.js';
import { clearFingerprintCache, COMPONENT_KINDS, explain, Fingerprint, getFingerprint, match, readHostFacts, type FingerprintComponent } from '../src/node/fingerprint/index.js';
import { loadNative, type SmbiosInfo } from '../src/node/fingerprint/native.js';
import { inMountNamespace } from './helpers/mount-namespace.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Both readers' host facts as a child process sees them in a private mount namespace, after
 * `setup` (shell, as root there) has mounted files over the real ones: `{ native, fallback }`,
 * each the JavaScript expression `view` over one reader's facts `x`. Skips, saying why, where a
 * mount namespace cannot be made; fails instead under CI.
 */
function factsInMountNamespace(ctx: TestContext, setup: string, view: string): { native: unknown; fallback: unknown } {
  const code = `const { readHostFacts } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/node/fingerprint/get.ts')).href)});
    const view = (x) => (${view});
    console.log(JSON.stringify({ native: view(await readHostFacts()), fallback: view(await readHostFacts({ fallback: true })) }));`;
  const r = inMountNamespace(ctx, setup, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', code]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim());
}
const SALT = 'com.example.app';

const smbios = physicalSmbios;
const facts = physicalFacts;

const fp = (f: HostFacts, salt = SALT) => Fingerprint.fromFacts(f, { salt });

describe('HMAC-SHA-256 (plain TypeScript, to keep node:crypto out of a cold start)', () => {
  it('agrees with node:crypto on the FIPS vectors and on random keys and messages', () => {
    expect(Buffer.from(sha256(new Uint8Array(0))).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(Buffer.from(sha256(new TextEncoder().encode('abc'))).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    fc.assert(
      fc.property(fc.string({ maxLength: 150 }), fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 200 }), (key, msg, bytes) => {
        expect(Buffer.from(hmacSha256(key, msg)).toString('hex')).toBe(createHmac('sha256', key).update(msg).digest('hex'));
        expect(Buffer.from(sha256(bytes)).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
      }),
      { numRuns: 400 },
    );
  });
});

describe('Fingerprint.fromFacts', () => {
  it('makes one component per kind (one per MAC), hashed, in a stable order', () => {
    const a = fp(facts());
    expect(a.components.map((c) => c.kind)).toEqual(['system-uuid', 'system-serial', 'board-serial', 'board', 'chassis-serial', 'cpu', 'machine-id', 'mac', 'mac']);
    expect(COMPONENT_KINDS).toEqual(['system-uuid', 'system-serial', 'board-serial', 'board', 'chassis-serial', 'cpu', 'machine-id', 'mac', 'mac-local']);
    for (const c of a.components) expect(c.value).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(a.toString()).toMatch(/^fp1:su=[\w-]{16},ss=[\w-]{16},bs=[\w-]{16},bd=[\w-]{16},cs=[\w-]{16},cp=[\w-]{16},mi=[\w-]{16},mc=[\w-]{16},mc=[\w-]{16}$/);
    // Adapter order does not matter.
    const b = fp(facts({ adapters: [...facts().adapters].reverse() }));
    expect(b.toString()).toBe(a.toString());
  });

  it('never shows a raw serial, UUID, MAC or machine id', () => {
    const text = JSON.stringify(fp(facts())) + fp(facts()).toString();
    for (const raw of ['PC131TBF', 'L1HF9380025', '161674cc', '8c:16:45', '8c1645', '3d1219c7', '000806ea']) expect(text.toLowerCase()).not.toContain(raw.toLowerCase());
  });

  it('depends on the salt: two applications cannot link their fingerprints', () => {
    const a = fp(facts(), 'app-one');
    const b = fp(facts(), 'app-two');
    const shared = a.components.filter((c) => b.components.some((d) => d.value === c.value));
    expect(shared).toEqual([]);
  });

  it('ignores case and blanks around values, and leaves placeholders and absent facts out', () => {
    const a = fp(facts({ smbios: smbios({ serial: ' pc131tbf  ' }) }));
    expect(a.of('system-serial')[0]!.value).toBe(fp(facts()).of('system-serial')[0]!.value);
    const b = fp(facts({ smbios: smbios({ serial: 'To Be Filled By O.E.M.' }, ['system.serial']), machineId: '' }));
    expect(b.of('system-serial')).toEqual([]);
    expect(b.of('machine-id')).toEqual([]);
    const c = fp(facts({ smbios: null, adapters: [] }));
    expect(c.components.map((x) => x.kind)).toEqual(['cpu', 'machine-id']);
  });

  it('marks serials unknown, not absent, when only the unprivileged sysfs view was readable', () => {
    const s = smbios();
    const partial: SmbiosInfo = { ...s, system: { manufacturer: 'LENOVO', product: '20L8S07A14' }, baseboard: { manufacturer: 'LENOVO', product: '20L8S07A14' }, chassis: {} };
    const f = fp(facts({ smbiosSource: 'sysfs-dmi-id', smbios: partial }));
    expect([...f.unavailable].sort()).toEqual(['board-serial', 'chassis-serial', 'system-serial', 'system-uuid']);
    // Taken as root, checked as a user: still the same machine.
    const r = match(fp(facts()), f, 'all');
    expect(r).toMatchObject({ ok: true, changed: [] });
    expect(r.unavailable.sort()).toEqual(['board-serial', 'chassis-serial', 'system-serial', 'system-uuid']);
  });
});

describe('string form', () => {
  it('round-trips, ignoring whitespace and line breaks', () => {
    const a = fp(facts());
    const text = a.toString();
    const wrapped = text.replace(/(.{20})/g, '$1\n  ');
    const b = Fingerprint.parse(wrapped);
    expect(b.toString()).toBe(text);
    expect(b.source).toBe('parsed');
    expect(match(b, a, 'all').ok).toBe(true);
  });

  it('refuses anything else with ERR_FINGERPRINT_MALFORMED', () => {
    const good = fp(facts()).toString();
    const bad = [
      '',
      'fp1:',
      'fp2:cp=AAAAAAAAAAAAAAAA',
      'cp=AAAAAAAAAAAAAAAA',
      'fp1:cp=AAAAAAAAAAAAAAA',
      'fp1:cp=AAAAAAAAAAAAAAAA!',
      'fp1:xx=AAAAAAAAAAAAAAAA',
      'fp1:cp=AAAAAAAAAAAAAAAA,cp=BBBBBBBBBBBBBBBB',
      'fp1:mc=AAAAAAAAAAAAAAAA,mc=AAAAAAAAAAAAAAAA',
      'fp1:cp',
      'fp1:cp=AAAAAAAAAAAAAAAA,',
      `fp1:${Array.from({ length: 40 }, (_, i) => `mc=${String(i).padStart(16, 'A')}`).join(',')}`,
      good + ','.repeat(5000),
      good.replace('mi=', 'mi=+'),
      // Out of the canonical order (su ss bs bd cs cp mi mc, MACs by hash).
      'fp1:mc=aiG-an560b0UWG7H,cp=ipHsqT0n6hT8wzW8',
      'fp1:mc=BBBBBBBBBBBBBBBB,mc=AAAAAAAAAAAAAAAA',
      'fp1:ml=AAAAAAAAAAAAAAAA,mc=BBBBBBBBBBBBBBBB',
      'fp1:ml=BBBBBBBBBBBBBBBB,ml=AAAAAAAAAAAAAAAA',
      'fp1:ml=AAAAAAAAAAAAAAAA,ml=AAAAAAAAAAAAAAAA',
      // 33 MACs in order, global and software-assigned together: at most 32.
      `fp1:${Array.from({ length: 20 }, (_, i) => `mc=${String(i).padStart(16, '0')}`).join(',')},${Array.from({ length: 13 }, (_, i) => `ml=${String(i).padStart(16, '0')}`).join(',')}`,
      good.replace(/^fp1:(su=[\w-]{16}),(ss=[\w-]{16})/, 'fp1:$2,$1'),
    ];
    for (const s of bad) {
      let err: unknown;
      try {
        Fingerprint.parse(s);
      } catch (e) {
        err = e;
      }
      expect(isLicenseError(err, 'ERR_FINGERPRINT_MALFORMED'), s.slice(0, 60)).toBe(true);
    }
    expect(() => Fingerprint.parse(42 as unknown as string)).toThrow(/not valid/);
    expect(() => Fingerprint.parse('fp1:mc=aiG-an560b0UWG7H,cp=ipHsqT0n6hT8wzW8')).toThrow(/in the order su ss bs bd cs cp mi mc ml, MACs sorted by hash; cp=ipHsqT0n6hT8wzW8 comes after mc=aiG-an560b0UWG7H/);
    expect(() => new Fingerprint([{ kind: 'cpu', name: 'cpu', value: 'AAAAAAAAAAAAAAAA' }, { kind: 'cpu', name: 'cpu', value: 'BBBBBBBBBBBBBBBB' }], 'native')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
    expect(() => new Fingerprint([{ kind: 'mac', name: 'a', value: 'AAAAAAAAAAAAAAAA' }, { kind: 'mac', name: 'b', value: 'AAAAAAAAAAAAAAAA' }], 'native')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
    expect(() => new Fingerprint([{ kind: 'cpu', name: 'cpu', value: 'raw-serial' }], 'native')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
    expect(() => new Fingerprint([{ kind: 'disk' as 'cpu', name: 'x', value: 'AAAAAAAAAAAAAAAA' }], 'native')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
    expect(() => match('garbage', fp(facts()))).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
  });

  it('toString() always writes the one order parse() accepts; any other order is refused', () => {
    const hash = fc.stringMatching(/^[A-Za-z0-9_-]{16}$/);
    const single = COMPONENT_KINDS.filter((k) => k !== 'mac' && k !== 'mac-local');
    const components = fc
      .tuple(fc.subarray(single), fc.array(hash, { maxLength: single.length }), fc.uniqueArray(hash, { maxLength: 6 }), fc.uniqueArray(hash, { maxLength: 4 }))
      .map(([kinds, hashes, macs, local]) => [
        ...kinds.slice(0, hashes.length).map((kind, i): FingerprintComponent => ({ kind, name: kind, value: hashes[i]! })),
        ...macs.map((value, i): FingerprintComponent => ({ kind: 'mac', name: `eth${i}`, value })),
        ...local.map((value, i): FingerprintComponent => ({ kind: 'mac-local', name: `ens${i}`, value })),
      ])
      .filter((cs) => cs.length > 0);
    fc.assert(
      fc.property(components, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), (cs, keys) => {
        // Constructed in any order, written in the canonical one.
        const shuffled = cs.map((c, i) => ({ c, key: keys[i]! })).sort((a, b) => a.key - b.key).map((x) => x.c);
        const text = new Fingerprint(shuffled, 'native').toString();
        expect(Fingerprint.parse(text).toString()).toBe(text);
        const entries = text.slice('fp1:'.length).split(',');
        const reordered = entries.map((e, i) => ({ e, key: keys[i]! })).sort((a, b) => a.key - b.key).map((x) => x.e);
        if (reordered.join(',') !== entries.join(',')) expect(() => Fingerprint.parse(`fp1:${reordered.join(',')}`)).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
      }),
      { numRuns: 300 },
    );
  });

  it('never fails on input with anything but ERR_FINGERPRINT_MALFORMED', () => {
    const good = fp(facts()).toString();
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.tuple(fc.nat(good.length), fc.string({ maxLength: 4 })).map(([i, s]) => good.slice(0, i) + s + good.slice(i + 1))), (s) => {
        try {
          const p = Fingerprint.parse(s);
          expect(Fingerprint.parse(p.toString()).toString()).toBe(p.toString());
        } catch (e) {
          expect(isLicenseError(e, 'ERR_FINGERPRINT_MALFORMED')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('match and explain', () => {
  const stored = fp(facts());

  it('the same machine matches under every strategy', () => {
    for (const s of ['all', 'most', { atLeast: 10 }] as const) expect(match(stored, fp(facts()), s)).toEqual({ ok: true, score: 1, changed: [], unavailable: [], strength: 'strong' });
    expect(match(stored.toString(), fp(facts()).toString()).ok).toBe(true);
  });

  it('a new network card keeps the license (most), not under "all"', () => {
    const nic = fp(facts({ adapters: [{ name: 'enp0s31f6', mac: '00:1b:21:99:99:99', origin: 'current' }, facts().adapters[1]!] }));
    expect(match(stored, nic, 'most')).toMatchObject({ ok: true, changed: [] }); // Wi-Fi still there
    const both = fp(facts({ adapters: [{ name: 'eth9', mac: '00:1b:21:99:99:99', origin: 'current' }] }));
    const r = match(stored, both, 'most');
    expect(r.ok).toBe(true);
    expect(r.changed).toEqual(['mac']);
    expect(r.score).toBeCloseTo(15 / 17);
    expect(match(stored, both, 'all').ok).toBe(false);
    // An added adapter or new component never breaks a license.
    const more = fp(facts({ adapters: [...facts().adapters, { name: 'usb0', mac: '00:1b:21:99:99:98', origin: 'current' }] }));
    expect(match(stored, more, 'all').ok).toBe(true);
  });

  it('a different motherboard does not', () => {
    const board = fp(
      facts({
        smbios: smbios({ uuid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', serial: 'PF0XYZ12', boardSerial: 'L2ZZ0000001', board: '20L9S00000' }),
        adapters: [{ name: 'enp0s31f6', mac: '8c:16:45:dd:ee:ff', origin: 'current' }], // on-board NIC
      }),
    );
    const r = match(stored, board);
    expect(r.ok).toBe(false);
    expect(r.changed).toEqual(['system-uuid', 'system-serial', 'board-serial', 'board', 'mac']);
    const e = explain(stored, board);
    expect(e.ok).toBe(false);
    expect(e.text).toContain('does not match');
    expect(e.text).toContain('reset');
    expect(e.text).toMatch(/board-serial\s+weight 3\s+CHANGED/);
    expect(e.text).toMatch(/cpu\s+weight 2\s+same/);
    expect(e.kinds.find((k) => k.kind === 'mac')).toMatchObject({ status: 'changed', stored: 2, current: 1 });
  });

  it('at-least-N and custom weights', () => {
    const onlyCpuAndId = fp(facts({ smbios: null, adapters: [] }));
    expect(match(stored, onlyCpuAndId, { atLeast: 4 }).ok).toBe(true); // cpu 2 + machine-id 2
    expect(match(stored, onlyCpuAndId, { atLeast: 5 }).ok).toBe(false);
    expect(match(stored, onlyCpuAndId, { atLeast: 4, weights: { 'machine-id': 0 } }).ok).toBe(false);
    expect(match(stored, onlyCpuAndId, { mode: 'most', weights: { cpu: 100 } }).ok).toBe(true);
  });

  it('a missing or non-string fingerprint is a LicenseError that says what to pass, never a TypeError', () => {
    const current = fp(facts());
    for (const call of [match, explain]) {
      expect(() => call(undefined as unknown as string, current)).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining('not node-locked') }));
      expect(() => call(null as unknown as string, current)).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining('not node-locked') }));
      expect(() => call(42 as unknown as string, current)).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining('license.fingerprint') }));
      expect(() => call({ components: [] } as unknown as string, current)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
      expect(() => call(stored.toString(), undefined as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining('getFingerprint') }));
      expect(() => call(stored, null as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
      expect(() => call('fp1:', current)).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED', message: expect.stringContaining('stored fingerprint') }));
      expect(() => call(stored, 'fp1:')).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED', message: expect.stringContaining('current fingerprint') }));
    }
  });

  it('a strategy with a typo is ERR_USAGE, never a looser match', () => {
    const current = fp(facts());
    const bad: unknown[] = ['All', 'bogus', 5, null, {}, { mode: 'bogus' }, { atLeast: '2' }, { atLeast: -5 }, { atLeast: Number.NaN }, { atLeast: 2, mode: 'all' },
      { mode: 'all', weights: { cpu: 'x' } }, { mode: 'most', weights: { cpu: Number.NaN } }, { mode: 'most', weights: { cpu: Infinity } }, { mode: 'most', weights: { uuid: 3 } }, { mode: 'most', weights: 7 }];
    for (const strategy of bad) {
      for (const call of [match, explain]) {
        expect(() => call(stored, current, strategy as 'most'), JSON.stringify(strategy) ?? String(strategy)).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining('strategy') }));
      }
    }
    // Negative weights count as 0, as documented.
    expect(match(stored, current, { mode: 'most', weights: { cpu: -3 } }).ok).toBe(true);
  });

  it('explain says to check the salt when every component differs', () => {
    const otherSalt = fp(facts(), 'another.app');
    const e = explain(stored, otherSalt);
    expect(e.ok).toBe(false);
    expect(e.text).toContain('check the salt');
    expect(e.text.split('\n')[0]).not.toMatch(/\([^)]*\(/); // no nested parentheses in the verdict
    expect(explain(stored, fp(facts({ adapters: [] }))).text).not.toContain('check the salt');
  });

  it('nothing comparable is no match', () => {
    const empty = new Fingerprint([], 'native');
    expect(match(stored, empty)).toMatchObject({ ok: false, score: 0 });
    expect(match(stored, empty, { atLeast: 0 }).ok).toBe(false);
  });
});

describe('environment', () => {
  it('a hypervisor bit or a VM vendor makes the machine virtual', () => {
    expect(looksVirtual(facts())).toBe(false);
    expect(looksVirtual(facts({ cpu: { ...facts().cpu, hypervisor: true } }))).toBe(true);
    expect(looksVirtual(facts({ smbios: { ...smbios(), system: { manufacturer: 'QEMU', product: 'Standard PC (Q35 + ICH9, 2009)' } } }))).toBe(true);
  });

  it('rebuilds the CPUID signature from /proc/cpuinfo numbers', () => {
    expect(signatureFromCpuinfo(6, 142, 10)).toBe('000806ea'); // the T480's i7-8650U (SMBIOS ID EA 06 08 00)
    expect(signatureFromCpuinfo(23, 8, 2)).toBe('00800f82'); // the X399's Threadripper 2990WX (82 0F 80 00)
    expect(signatureFromCpuinfo(6, 62, 4)).toBe('000306e4'); // the X9DBL's Xeon (E4 06 03 00)
  });
});

describe('getFingerprint on this machine', () => {
  it('is cached per process: the second call returns the same object', async () => {
    clearFingerprintCache();
    const a = await getFingerprint({ salt: SALT });
    const b = await getFingerprint({ salt: SALT });
    expect(b).toBe(a);
    expect(await getFingerprint({ salt: 'other' })).not.toBe(a);
    expect(a.source).toBe(loadNative() === undefined ? 'fallback' : 'native');
    expect(a.components.length).toBeGreaterThan(0);
  });

  it('an operator-supplied machine id (containers) is the only component, hashed', async () => {
    const a = await getFingerprint({ salt: SALT, machineId: 'pod-7f3a' });
    expect(a.source).toBe('supplied');
    expect(a.components.map((c) => c.kind)).toEqual(['machine-id']);
    expect(a.toString()).not.toContain('pod-7f3a');
    expect(match(a, await getFingerprint({ salt: SALT, machineId: ' POD-7F3A ' }), 'all').ok).toBe(true);
    expect(match(a, await getFingerprint({ salt: SALT, machineId: 'pod-other' })).ok).toBe(false);
    await expect(getFingerprint({ salt: SALT, machineId: ' ' })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });

  it('a supplied machine id replaces the hardware components, not the virtual/container report', async () => {
    const hardware = await getFingerprint({ salt: SALT });
    const supplied = await getFingerprint({ salt: SALT, machineId: 'pod-7f3a' });
    expect({ virtual: supplied.virtual, container: supplied.container }).toEqual({ virtual: hardware.virtual, container: hardware.container });
    const viaFallback = await getFingerprint({ salt: SALT, machineId: 'pod-7f3a', fallback: true });
    expect(viaFallback.virtual).toBe((await getFingerprint({ salt: SALT, fallback: true })).virtual);
  });

  // Without root only some of /sys/class/dmi/id is readable, and machines without SMBIOS (like
  // this one) have none: a tmpfs over /sys/class in a private mount namespace stands in for it.
  it.runIf(loadNative() !== undefined && process.platform === 'linux')('from /sys/class/dmi/id, both readers flag the same placeholders (all-zero UUID, tab-wrapped filler)', (ctx) => {
    const files: Record<string, string> = { product_uuid: '00000000-0000-0000-0000-000000000000', product_serial: 'PF0XYZ12', board_serial: '\\tNone\\t' /* printf %b makes the tabs */, board_vendor: 'LENOVO', board_name: '20L9S00000', sys_vendor: 'LENOVO' };
    const writes = Object.entries(files).map(([f, v]) => `printf '%b\\n' '${v}' > /sys/class/dmi/id/${f}`).join(' && ');
    const setup = `[ -e /sys/firmware/dmi/tables/DMI ] && mount -t tmpfs none /sys/firmware; mount -t tmpfs none /sys/class && mkdir -p /sys/class/dmi/id && ${writes}`;
    const out = factsInMountNamespace(ctx, setup, '{ source: x.smbiosSource, uuid: x.smbios?.system.uuid, serial: x.smbios?.system.serial, placeholders: [...(x.smbios?.placeholders ?? [])].sort() }');
    expect(out.native).toEqual({ source: 'sysfs-dmi-id', uuid: files.product_uuid, serial: 'PF0XYZ12', placeholders: ['baseboard.serial', 'system.uuid'] });
    expect(out.fallback).toEqual(out.native);
  });

  it('getFingerprint refuses options that are not an object with ERR_USAGE', async () => {
    for (const bad of [5, 'salt', true, null, undefined]) await expect(getFingerprint(bad as unknown as { salt: string })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });

  it('has no default salt: a missing, empty or non-string salt is ERR_USAGE naming how to pass one', async () => {
    for (const opts of [{}, { salt: '' }, { salt: 5 }, { machineId: 'pod-1' }]) {
      await expect(getFingerprint(opts as unknown as { salt: string }), JSON.stringify(opts)).rejects.toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('saltForVendor') });
    }
  });

  it.runIf(loadNative() !== undefined && process.platform === 'linux')('the JavaScript fallback reads the same facts here, so both sources match', async () => {
    const native = await getFingerprint({ salt: SALT });
    const fallback = await getFingerprint({ salt: SALT, fallback: true });
    expect(fallback.source).toBe('fallback');
    expect(match(native, fallback, 'all').ok).toBe(true);
    const f = await readHostFacts({ fallback: true });
    const n = await readHostFacts();
    expect(f.cpu.signature).toBe(n.cpu.signature);
    expect(f.machineId).toBe(n.machineId);
  });

  // First boot and some images leave /etc/machine-id empty or "uninitialized"; both readers must
  // then take D-Bus's copy. Files are bind-mounted over the real ones in a private mount namespace.
  it.runIf(loadNative() !== undefined && process.platform === 'linux')('an empty or "uninitialized" /etc/machine-id falls through to /var/lib/dbus/machine-id in both readers', (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'licit-mid-'));
    const dbusId = 'a'.repeat(8) + '0123456789abcdef0123456789ab'.slice(0, 24);
    writeFileSync(join(dir, 'dbus-id'), `${dbusId}\n`);
    for (const content of ['', 'uninitialized\n']) {
      writeFileSync(join(dir, 'etc-id'), content);
      const setup = `mount --bind ${dir}/etc-id /etc/machine-id && mount --bind ${dir}/dbus-id /var/lib/dbus/machine-id`;
      expect(factsInMountNamespace(ctx, setup, 'x.machineId'), JSON.stringify(content)).toEqual({ native: dbusId, fallback: dbusId });
    }
  });
});
