/**
 * The SMBIOS parser: C++ unit tests (CMake), the addon on real dumps against dmidecode's own text,
 * differential tests against `dmidecode --from-dump` on mutated dumps it was never shown, random
 * bytes, and the `licit smbios` verb.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNative, type SmbiosInfo } from '../src/node/fingerprint/native.js';
import { decodeSmbios } from '../src/node/fingerprint/smbios.js';
import { isLicenseError } from '../src/core/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, 'test/native/fixtures');
const NAMES = ['Asus-UX307LA', 'GigaByte-X399', 'Lenovo-ThinkPad-T480', 'SuperMicro-X9DBL'];
const addon = loadNative();
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

interface Section {
  type: number;
  fields: Map<string, string>;
}

/** dmidecode's text: sections per structure with one-tab-indented "Key: Value" lines. */
function readDmidecode(text: string): { version: string; sections: Section[] } {
  const sections: Section[] = [];
  let version = '';
  for (const line of text.split('\n')) {
    const v = /^SMBIOS (\S+) present\./.exec(line);
    if (v) version = v[1]!;
    const h = /^Handle 0x[0-9A-Fa-f]+, DMI type (\d+)/.exec(line);
    if (h) sections.push({ type: Number(h[1]), fields: new Map() });
    const f = /^\t([^\t:][^:]*): (.*)$/.exec(line);
    if (f && sections.length > 0) {
      const s = sections[sections.length - 1]!;
      if (!s.fields.has(f[1]!)) s.fields.set(f[1]!, f[2]!);
    }
  }
  return { version, sections };
}

/** Compare the fields licit decodes with dmidecode's text for the same bytes. */
function expectSameAsDmidecode(info: SmbiosInfo, dmi: ReturnType<typeof readDmidecode>, label: string) {
  const first = (t: number) => dmi.sections.find((s) => s.type === t);
  const want = (s: Section | undefined, key: string) => s?.fields.get(key) ?? 'Not Specified';
  const got = (v: string | undefined) => v ?? 'Not Specified';
  const sys = first(1);
  const pairs: Array<[string, string | undefined, Section | undefined, string]> = [
    ['system.manufacturer', info.system.manufacturer, sys, 'Manufacturer'],
    ['system.product', info.system.product, sys, 'Product Name'],
    ['system.version', info.system.version, sys, 'Version'],
    ['system.serial', info.system.serial, sys, 'Serial Number'],
    ['baseboard.manufacturer', info.baseboard.manufacturer, first(2), 'Manufacturer'],
    ['baseboard.product', info.baseboard.product, first(2), 'Product Name'],
    ['baseboard.serial', info.baseboard.serial, first(2), 'Serial Number'],
    ['chassis.manufacturer', info.chassis.manufacturer, first(3), 'Manufacturer'],
    ['chassis.serial', info.chassis.serial, first(3), 'Serial Number'],
  ];
  for (const [name, g, s, key] of pairs) expect(got(g), `${label} ${name}`).toBe(want(s, key));
  if (sys !== undefined && !info.placeholders.includes('system.uuid')) expect(info.system.uuid, `${label} uuid`).toBe(sys.fields.get('UUID')?.toLowerCase());
  const procs = dmi.sections.filter((s) => s.type === 4);
  expect(info.processors.length, `${label} processors`).toBe(procs.length);
  procs.forEach((p, i) => {
    expect(got(info.processors[i]!.id), `${label} cpu id`).toBe(want(p, 'ID'));
    expect(got(info.processors[i]!.version), `${label} cpu version`).toBe(want(p, 'Version'));
  });
}

describe('C++ unit tests (CMake)', () => {
  it('pass on the four real dumps, filler UUIDs and processor ids reported as text, UUID byte order and hostile structures', (ctx) => {
    if (!has('cmake') || !(has('c++') || has('g++') || has('clang++'))) return ctx.skip('cmake or a C++ compiler is not installed: the C++ parser tests did not run');
    const build = join(ROOT, 'native/build-cmake/test');
    const asan = spawnSync('sh', ['-c', 'echo "int main(){}" | c++ -x c++ -fsanitize=address - -o /dev/null'], { encoding: 'utf8' }).status === 0;
    const cfg = spawnSync('cmake', ['-S', ROOT, '-B', build, `-DLICIT_ASAN=${asan ? 'ON' : 'OFF'}`], { encoding: 'utf8' });
    expect(cfg.status, cfg.stderr).toBe(0);
    const b = spawnSync('cmake', ['--build', build, '-j2', '--target', 'smbios_test'], { encoding: 'utf8' });
    expect(b.status, b.stdout + b.stderr).toBe(0);
    const r = spawnSync(join(build, 'smbios_test'), [FIXTURES], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ checks, 0 failures/);
  }, 240_000);
});

describe.runIf(addon !== undefined)('the addon parser', () => {
  for (const name of NAMES) {
    it(`decodes ${name} as dmidecode does`, () => {
      const info = decodeSmbios(readFileSync(join(FIXTURES, `${name}.bin`)));
      const dmi = readDmidecode(readFileSync(join(FIXTURES, `${name}.dmidecode.txt`), 'utf8'));
      expect(info.version).toBe(dmi.version);
      expectSameAsDmidecode(info, dmi, name);
    });
  }

  it('marks placeholders, keeps real serials', () => {
    const giga = decodeSmbios(readFileSync(join(FIXTURES, 'GigaByte-X399.bin')));
    expect(giga.placeholders).toEqual(expect.arrayContaining(['system.serial', 'baseboard.serial', 'chassis.serial']));
    expect(giga.placeholders).not.toContain('system.uuid');
    const lenovo = decodeSmbios(readFileSync(join(FIXTURES, 'Lenovo-ThinkPad-T480.bin')));
    expect(lenovo.system.serial).toBe('PC131TBF');
    expect(lenovo.placeholders).not.toContain('system.serial');
    const asus = decodeSmbios(readFileSync(join(FIXTURES, 'Asus-UX307LA.bin')));
    expect(asus.placeholders).toContain('baseboard.serial'); // BSN12345678901234567
  });

  it('reads a bare table (as Linux /sys/firmware/dmi/tables/DMI holds it)', () => {
    const bin = readFileSync(join(FIXTURES, 'Lenovo-ThinkPad-T480.bin'));
    const info = decodeSmbios(bin.subarray(0x20));
    expect(info.version).toBe('0.0');
    expect(info.system.uuid).toBe('161674cc-2a1e-11b2-a85c-e121881d01b9'); // modern byte order assumed
  });

  it('refuses what is not a dump with ERR_SMBIOS_MALFORMED, never a crash', () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('hello world, not SMBIOS'), readFileSync(join(FIXTURES, 'Asus-UX307LA.bin')).subarray(0, 20)]) {
      let err: unknown;
      try {
        decodeSmbios(bytes);
      } catch (e) {
        err = e;
      }
      expect(isLicenseError(err, 'ERR_SMBIOS_MALFORMED')).toBe(true);
    }
  });

  it('survives random bytes and random damage to real dumps', () => {
    const dumps = NAMES.map((n) => readFileSync(join(FIXTURES, `${n}.bin`)));
    fc.assert(
      fc.property(fc.nat(3), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }), fc.nat(), (which, flips, cut) => {
        const b = Uint8Array.from(dumps[which]!);
        for (const [pos, val] of flips) b[pos % b.length] = val;
        const view = b.subarray(0, cut % (b.length + 1));
        for (const kind of ['dump', 'table'] as const) {
          const r = addon!.parseSmbios(view, kind, 2, 7);
          expect(['ok', 'no-entry-point', 'bad-entry-point', 'table-out-of-range', 'empty-table']).toContain(r.status);
          if (r.table) JSON.stringify(r.table);
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void addon!.parseSmbios(bytes, 'table')), { numRuns: 300 });
  });

  it('agrees with `dmidecode --from-dump` on dumps it was never shown (mutated strings, older versions)', (ctx) => {
    if (!has('dmidecode')) return ctx.skip('dmidecode is not installed (apt-get install dmidecode): differential test skipped');
    const dir = mkdtempSync(join(tmpdir(), 'licit-smbios-'));
    const rand = fc.sample(fc.tuple(fc.nat(3), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0x21, max: 0x7e })), { minLength: 1, maxLength: 12 })), { numRuns: 24, seed: 42 });
    let n = 0;
    for (const [which, edits] of rand) {
      const b = Buffer.from(readFileSync(join(FIXTURES, `${NAMES[which]}.bin`)));
      // Change printable bytes only (inside strings or numbers), so the dump stays walkable.
      for (const [pos, val] of edits) {
        const p = 0x20 + (pos % (b.length - 0x20));
        if (b[p]! >= 0x21 && b[p]! <= 0x7e) b[p] = val;
      }
      if (n % 4 === 0 && b.subarray(0, 4).toString() === '_SM_') {
        // Also pretend to be SMBIOS 2.5, where the UUID is printed as stored.
        b[7] = 5;
        b[4] = 0;
        b[4] = (0x100 - (b.subarray(0, b[5]).reduce((s, x) => s + x, 0) & 0xff)) & 0xff;
      }
      const file = join(dir, `m${n++}.bin`);
      writeFileSync(file, b);
      const out = spawnSync('dmidecode', ['--from-dump', file, '-t', '1,2,3,4'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      const dmi = readDmidecode(out.stdout);
      const info = decodeSmbios(b);
      expect(info.version).toBe(dmi.version);
      expectSameAsDmidecode(info, dmi, `mutant ${n}`);
    }
  });
});

describe('licit smbios', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/licit.cjs'), ...args], { encoding: 'utf8' });

  it.runIf(addon !== undefined)('prints the fields of a dump as JSON', () => {
    const r = cli('smbios', join(FIXTURES, 'SuperMicro-X9DBL.bin'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, version: '2.7', structures: 115, system: { manufacturer: 'Thomas-Krenn.AG', serial: '9000116105', uuid: '00000000-0000-0000-0000-0cc47a133878' }, baseboard: { serial: 'VM147S018307' } });
    expect(j.processors).toHaveLength(2);
    expect(j.processors[1]).toMatchObject({ socket: 'SOCKET 1', id: 'E4 06 03 00 FF FB EB BF', populated: true });
  });

  it('fails cleanly on a missing file, a non-dump and a missing argument', () => {
    // A file named on the command line that cannot be read is a usage error (exit 2), in words.
    for (const [file, why] of [['/nonexistent/dump.bin', 'no such file'], [ROOT, 'is a directory']] as const) {
      const r = cli('smbios', file, '--json');
      expect(r.status, file).toBe(2);
      expect(JSON.parse(r.stdout).error, file).toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining(why) });
    }
    const big = cli('smbios', '/dev/zero', '--json');
    expect(big.status).toBe(2);
    expect(JSON.parse(big.stdout).error.code).toBe('ERR_USAGE');
    const notDump = cli('smbios', join(ROOT, 'package.json'), '--json');
    expect(notDump.status).toBe(1);
    expect(JSON.parse(notDump.stdout).error.code).toBe(addon === undefined ? 'ERR_NATIVE_UNAVAILABLE' : 'ERR_SMBIOS_MALFORMED');
    expect(cli('smbios').status).toBe(2);
  });

  it('refuses a second argument with ERR_USAGE (exit 2), naming it, before reading anything', () => {
    const r = cli('smbios', join(FIXTURES, 'Asus-UX307LA.bin'), '/nonexistent', '--json');
    expect(r.status).toBe(2);
    const error = JSON.parse(r.stdout).error as { code: string; message: string };
    expect(error.code).toBe('ERR_USAGE');
    expect(error.message).toContain('"/nonexistent"');
  });

  it('explains a missing addon (LICIT_NO_NATIVE=1) with what was tried and what to do', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/licit.cjs'), 'smbios', join(FIXTURES, 'Asus-UX307LA.bin')], { encoding: 'utf8', env: { ...process.env, LICIT_NO_NATIVE: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ERR_NATIVE_UNAVAILABLE');
    expect(r.stderr).toContain('Possible solutions');
    // smbios has no JavaScript fallback: the message must not suggest one.
    expect(r.stderr).toContain('Decoding an SMBIOS dump');
    expect(r.stderr).toContain('there is no JavaScript fallback');
    expect(r.stderr).toContain('npm explore licit -- npm run build:native');
    expect(r.stderr).toContain('Unset LICIT_NO_NATIVE');
    expect(r.stderr).not.toContain('use the JavaScript fallback');
  });
});
