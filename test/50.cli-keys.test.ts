/** The CLI as a user runs it: real processes over the built package. */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { licit } from './helpers/cli.js';

let dir: string;
let pub: string;
let key: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'licit-cli-'));
  const r = licit(['keygen', '--out', join(dir, 'keys'), '--json']);
  expect(r.code, r.stderr).toBe(0);
  pub = join(dir, 'keys', 'vendor.pub');
  const issued = licit([
    'issue', '--signing-key', join(dir, 'keys', 'vendor.key'), '--license-id', 'LIC-7', '--customer', 'ACME GmbH', '--edition', 'pro',
    '--feature', 'reports', '--feature', 'export', '--seats', 'basic=10', '--seats', 'advanced=2', '--max-users', '12',
    '--expires', '2030-01-01', '--maintenance-expires', '2027-06-30', '--grace-days', '14', '--credits', '5000', '--meta', 'order=PO-1', '--json',
  ]);
  expect(issued.code, issued.stderr).toBe(0);
  key = issued.json().key as string;
});

describe('licit keygen', () => {
  it('writes vendor.key with mode 0600 and vendor.pub, and reports the kid', () => {
    expect(statSync(join(dir, 'keys', 'vendor.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(readFileSync(join(dir, 'keys', 'vendor.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
  it('refuses to overwrite an existing key pair', () => {
    const before = readFileSync(join(dir, 'keys', 'vendor.key'), 'utf8');
    const r = licit(['keygen', '--out', join(dir, 'keys'), '--json']);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'ERR_USAGE' } });
    expect(r.json().error?.message).toMatch(/never overwrites/);
    expect(readFileSync(join(dir, 'keys', 'vendor.key'), 'utf8')).toBe(before);
  });
});

describe('licit issue', () => {
  it('prints the key on one line', () => {
    const r = licit(['issue', '--signing-key', join(dir, 'keys', 'vendor.key'), '--feature', 'x']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^LICIT1-[A-Za-z0-9_-]+$/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });
  it('refuses bad flag values as usage errors (exit 2)', () => {
    for (const args of [['--seats', 'basic'], ['--seats', 'basic=-1'], ['--expires', 'tomorrow'], ['--grace-days', '1.5'], ['--bogus']]) {
      const r = licit(['issue', '--signing-key', join(dir, 'keys', 'vendor.key'), ...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json().error?.code).toBe('ERR_USAGE');
    }
  });
  it('refuses invalid claims with ERR_KEY_INVALID_CLAIM (exit 1)', () => {
    const r = licit(['issue', '--signing-key', join(dir, 'keys', 'vendor.key'), '--feature', 'not ok', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().error?.code).toBe('ERR_KEY_INVALID_CLAIM');
  });
  it('refuses a missing or wrong signing key', () => {
    expect(licit(['issue', '--json']).json().error?.code).toBe('ERR_USAGE');
    expect(licit(['issue', '--signing-key', pub, '--json']).json().error?.code).toBe('ERR_PRIVATE_KEY_INVALID');
  });
});

describe('licit verify', () => {
  it('prints status and claims with ISO dates as one JSON object, exit 0', () => {
    const r = licit(['verify', '--public-key', pub, '--now', '2026-12-01', key, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    // --expires 2030-01-01 is valid through that whole day, UTC: the key holds the instant it is over.
    expect(out).toMatchObject({ ok: true, status: 'valid', license: { licenseId: 'LIC-7', customer: 'ACME GmbH', edition: 'pro', seats: { basic: 10, advanced: 2 }, credits: 5000, expiresAt: '2030-01-01T23:59:59.000Z', meta: { order: 'PO-1' } } });
  });
  it('reads the key from standard input, wrapped at 64 columns with CRLF', () => {
    const wrapped = key.replace(/(.{64})/g, '$1\r\n');
    const r = licit(['verify', '--public-key', pub, '--now', '2026-12-01', '-', '--json'], { input: wrapped });
    expect(r.code, r.stdout).toBe(0);
    const r2 = licit(['verify', '--public-key', pub, '--now', '2026-12-01', '--json'], { input: wrapped });
    expect(r2.code).toBe(0);
  });
  it('exits 0 in grace, with the warning', () => {
    const r = licit(['verify', '--public-key', pub, '--now', '2030-01-05', key, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, status: 'grace', daysLeft: 11 });
    const human = licit(['verify', '--public-key', pub, '--now', '2030-01-05', key]);
    expect(human.stdout).toMatch(/is GRACE \(11 day\(s\) of grace left\)/);
    expect(human.stderr).toMatch(/warning: the license expired/);
  });
  it('exits 1 with the error code for expired, maintenance-expired and forged keys, never a stack trace', () => {
    const cases: [string[], string][] = [
      [['--now', '2031-01-01', key], 'ERR_LICENSE_EXPIRED'],
      [['--now', '2026-12-01', '--release-date', '2027-07-01', key], 'ERR_MAINTENANCE_EXPIRED'],
      [['--now', '2026-12-01', key.slice(0, -3) + (key.endsWith('A') ? 'BAA' : 'AAA')], 'ERR_KEY_SIGNATURE'],
      [['--now', '2026-12-01', 'LICIT1-garbage!'], 'ERR_KEY_MALFORMED'],
    ];
    for (const [args, code] of cases) {
      const r = licit(['verify', '--public-key', pub, ...args, '--json']);
      expect(r.code, code).toBe(1);
      expect(r.json().error?.code).toBe(code);
      const human = licit(['verify', '--public-key', pub, ...args]);
      expect(human.stderr).toMatch(new RegExp(`^licit: ${code}: `));
      expect(human.stderr).not.toMatch(/\n\s+at /);
    }
  });
  it('usage errors exit 2: missing public key, unreadable file, no key', () => {
    expect(licit(['verify', key, '--json']).code).toBe(2);
    expect(licit(['verify', '--public-key', join(dir, 'nope.pub'), key, '--json']).json().error?.code).toBe('ERR_USAGE');
    expect(licit(['verify', '--public-key', pub, '--json']).code).toBe(2);
  });
  it('trusts several --public-key files (rotation)', () => {
    const other = join(dir, 'other');
    licit(['keygen', '--out', other]);
    const r = licit(['verify', '--public-key', join(other, 'vendor.pub'), '--public-key', pub, '--now', '2026-12-01', key, '--json']);
    expect(r.code).toBe(0);
    expect(licit(['verify', '--public-key', join(other, 'vendor.pub'), key, '--json']).json().error?.code).toBe('ERR_KEY_UNKNOWN_SIGNER');
  });
});

describe('time words: what --expires DATE means', () => {
  const signing = () => join(dir, 'keys', 'vendor.key');
  it('a date alone is valid through the end of that day UTC; inspect and verify print the exact instant', () => {
    const k = licit(['issue', '--signing-key', signing(), '--expires', '2027-12-31', '--maintenance-expires', '2027-06-30']).stdout.trim();
    const noon = licit(['verify', '--public-key', pub, '--now', '2027-12-31T12:00:00Z', k]);
    expect(noon.code, noon.stderr).toBe(0);
    expect(noon.stdout).toMatch(/is VALID/);
    expect(noon.stdout).toMatch(/expires\s+2027-12-31T23:59:59Z \(end of 2027-12-31 UTC\)/);
    expect(noon.stdout).toMatch(/maintenance until\s+2027-06-30T23:59:59Z \(end of 2027-06-30 UTC\)/);
    expect(licit(['verify', '--public-key', pub, '--now', '2027-12-31T23:59:59.900Z', k]).code).toBe(0);
    const after = licit(['verify', '--public-key', pub, '--now', '2028-01-01T00:00:00Z', k, '--json']);
    expect(after.code).toBe(1);
    expect(after.json().error?.message).toMatch(/expired at 2027-12-31T23:59:59Z/);
    expect(licit(['inspect', k]).stdout).toMatch(/expires\s+2027-12-31T23:59:59Z \(end of 2027-12-31 UTC\)/);
    expect(licit(['inspect', k, '--json']).json()).toMatchObject({ license: { expiresAt: '2027-12-31T23:59:59.000Z' } });
    // A release dated the day after maintenance ends is not covered; one dated its last day is.
    expect(licit(['verify', '--public-key', pub, '--now', '2027-01-01', '--release-date', '2027-06-30', k]).code).toBe(0);
    expect(licit(['verify', '--public-key', pub, '--now', '2027-01-01', '--release-date', '2027-07-01', k, '--json']).json().error?.code).toBe('ERR_MAINTENANCE_EXPIRED');
  });
  it('a time without a zone is refused with both fixes; with a zone it is the same instant under any TZ', () => {
    const r = licit(['issue', '--signing-key', signing(), '--expires', '2027-12-31T10:00', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'ERR_USAGE' });
    expect(r.json().error?.message).toContain('2027-12-31T10:00Z');
    expect(r.json().error?.message).toContain('2027-12-31T10:00+01:00');
    const seen = ['UTC', 'America/New_York', 'Asia/Tokyo'].map((TZ) => {
      const k = licit(['issue', '--signing-key', signing(), '--expires', '2027-12-31T10:00+01:00'], { env: { TZ } }).stdout.trim();
      return licit(['inspect', k, '--json']).json().license as { expiresAt: string };
    });
    expect(seen.map((l) => l.expiresAt)).toEqual(['2027-12-31T09:00:00.000Z', '2027-12-31T09:00:00.000Z', '2027-12-31T09:00:00.000Z']);
    expect(licit(['verify', '--public-key', pub, '--now', '2027-12-31T10:00', key, '--json']).code).toBe(2);
  });
});

describe('licit inspect', () => {
  it('decodes without verifying, and says so', () => {
    const r = licit(['inspect', key, '--json']);
    expect(r.json()).toMatchObject({ ok: true, verified: false, license: { licenseId: 'LIC-7' } });
    expect(licit(['inspect', key]).stdout).toMatch(/^NOT VERIFIED/);
  });
});

describe('licit inspect: every licit code kind', () => {
  it('decodes license keys, top-up tokens, request codes and leases; NOT VERIFIED unless --public-key', async () => {
    const signing = join(dir, 'keys', 'vendor.key');
    const token = licit(['topup', '--signing-key', signing, '--license-id', 'LIC-7', '--credits', '500', '--token-id', 'TOP-1']).stdout.trim();
    const t = licit(['inspect', token, '--json']);
    expect(t.json()).toMatchObject({ ok: true, kind: 'topup', verified: false, topUp: { tokenId: 'TOP-1', licenseId: 'LIC-7', credits: 500 } });
    expect(licit(['inspect', token]).stdout).toMatch(/^NOT VERIFIED/);
    const tv = licit(['inspect', token, '--public-key', pub]);
    expect([tv.code, tv.stdout]).toEqual([0, expect.stringMatching(/^VERIFIED: the vendor signature holds\. Top-up token/)]);
    // A forged one with a key given: refused, exit 1.
    const forged = token.slice(0, -3) + (token.endsWith('A') ? 'BAA' : 'AAA');
    expect(licit(['inspect', forged, '--public-key', pub, '--json']).json().error?.code).toBe('ERR_KEY_SIGNATURE');
    expect(licit(['inspect', key, '--public-key', pub, '--json']).json()).toMatchObject({ ok: true, kind: 'license', verified: true });
    // A request code and its lease, made by the offline exchange.
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'app-secret');
    const inst = join(dir, 'inst');
    const k8 = licit(['issue', '--signing-key', signing, '--license-id', 'LIC-7', '--allow-machine-id']).stdout.trim();
    const req = licit(['request', '--license', k8, '--public-key', pub, '--secret-file', secret, '--dir', inst, '--machine-id', 'node-1', '--user', 'ann']);
    expect(req.code, req.stderr).toBe(0);
    const r = licit(['inspect', req.stdout.trim(), '--json']);
    expect(r.json()).toMatchObject({ ok: true, kind: 'request', verified: false, request: { operation: 'activate', licenseId: 'LIC-7', user: 'ann' } });
    expect(licit(['inspect', req.stdout.trim(), '--public-key', pub]).stdout).toMatch(/^NOT VERIFIED: a request code is signed by the installation/);
    const lease = licit(['respond', '--signing-key', signing, '--store', join(dir, 'respond-store'), req.stdout.trim()]);
    expect(lease.code, lease.stderr).toBe(0);
    const l = licit(['inspect', lease.stdout.trim(), '--public-key', pub, '--json']);
    expect(l.json()).toMatchObject({ ok: true, kind: 'lease', verified: true, lease: { licenseId: 'LIC-7', user: 'ann' } });
    expect(licit(['inspect', lease.stdout.trim()]).stdout).toMatch(/^NOT VERIFIED[^\n]*Response code \(lease\)[\s\S]*verified until\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/);
    const junk = licit(['inspect', 'hello', '--json']);
    expect([junk.code, junk.json().error?.code]).toEqual([1, 'ERR_KEY_MALFORMED']);
  });
  it('every verb taking a key or code reads text, @FILE, a path, or - (standard input)', () => {
    const file = join(dir, 'key.lic');
    writeFileSync(file, `${key}\n`);
    for (const arg of [key, `@${file}`, file]) expect(licit(['verify', '--public-key', pub, '--now', '2026-12-01', arg]).code, arg).toBe(0);
    expect(licit(['verify', '--public-key', pub, '--now', '2026-12-01', '-'], { input: key }).code).toBe(0);
    for (const arg of [`@${file}`, file]) expect(licit(['inspect', arg, '--json']).json().kind).toBe('license');
    expect(licit(['inspect', '-', '--json'], { input: key }).json().kind).toBe('license');
    // --license takes - too.
    const secret = join(dir, 'secret2');
    writeFileSync(secret, 's');
    const r = licit(['request', '--license', '-', '--public-key', pub, '--secret-file', secret, '--dir', join(dir, 'inst2'), '--machine-id', 'n2'], { input: key.replace(/(.{64})/g, '$1\n') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^LICITR1-/);
  });
});

describe('help and did-you-mean', () => {
  const verbs = ['keygen', 'issue', 'verify', 'inspect', 'credits', 'topup', 'seats', 'devices', 'users', 'fingerprint', 'smbios', 'request', 'respond', 'apply', 'serve', 'log', 'report', 'licenses', 'portal', 'settings'];
  it('the top-level help lists every verb', () => {
    const main = readFileSync(new URL('../src/cli/main.ts', import.meta.url), 'utf8');
    const table = [...main.matchAll(/^\s{2}([a-z]+): \{ summary:/gm)].map((m) => m[1]);
    expect(table.sort()).toEqual([...verbs].sort());
    const help = licit(['help']).stdout;
    for (const v of [...verbs, 'help']) expect(help, v).toMatch(new RegExp(`^  ${v} `, 'm'));
  });
  it('licit help VERB and VERB --help describe every flag with an example', () => {
    for (const verb of verbs) {
      const a = licit(['help', verb, '--json']);
      expect(a.code, verb).toBe(0);
      const flags = a.json().flags as Array<{ flag: string; description?: string; example?: string }>;
      expect(flags.length, verb).toBeGreaterThan(1);
      for (const f of flags) {
        expect(f.description, `${verb} ${f.flag}`).toBeTruthy();
        expect(f.example, `${verb} ${f.flag}`).toMatch(/^--/);
      }
      expect(licit([verb, '--help']).stdout, verb).toBe(licit(['help', verb]).stdout);
    }
    expect(licit(['help', 'issue']).stdout).toMatch(/--expires VALUE\s+license expiry: a date alone runs through the end of that day[\s\S]*e\.g\. --expires 2027-12-31/);
  });
  it("each verb's usage line and its section of docs/cli.md name every flag its help describes", () => {
    // A flag the parser takes but the synopsis leaves out is one a reader never finds (serve's
    // --json-log and --metrics, issue's --rotate, apply's --user were missing from docs/cli.md).
    const doc = readFileSync(new URL('../docs/cli.md', import.meta.url), 'utf8');
    const missing: string[] = [];
    for (const verb of verbs) {
      const section = doc.split(/^## /m).find((s) => s.startsWith(`licit ${verb}\n`)) ?? '';
      const { usage, flags } = licit(['help', verb, '--json']).json() as unknown as { usage: string; flags: Array<{ flag: string }> };
      for (const flag of flags.map((f) => f.flag.split(' ')[0] as string).filter((f) => f !== '--help')) {
        const named = new RegExp(`${flag}(?![a-z-])`);
        if (flag !== '--json' && !named.test(usage)) missing.push(`usage of ${verb}: ${flag}`);
        if (!named.test(section)) missing.push(`docs/cli.md, licit ${verb}: ${flag}`);
      }
    }
    expect(missing).toEqual([]);
    expect(licit(['help']).stdout).toMatch(/^  users +license users: list, add, remove, reset, rename, suspend, revoke, reinstate/m);
  });
  it('suggests the verb or flag that was meant (exit 2)', () => {
    const v = licit(['verfy', '--json']);
    expect([v.code, v.json().error?.message]).toEqual([2, expect.stringMatching(/unknown verb "verfy"\. Did you mean "verify"\?/)]);
    const f = licit(['verify', '--public-kye', pub, key, '--json']);
    expect([f.code, f.json().error?.message]).toEqual([2, expect.stringMatching(/unknown flag --public-kye\. Did you mean --public-key\?/)]);
    expect(licit(['frobnicate', '--json']).json().error?.message).not.toMatch(/Did you mean/);
  });
});

describe('dispatcher', () => {
  it('unknown verbs and no verb are usage errors with the verb list', () => {
    const r = licit(['frobnicate', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error?.message).toMatch(/unknown verb "frobnicate"/);
    const none = licit([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Verbs:/);
  });
  it('--help prints a verb\'s usage and exits 0, as text or JSON', () => {
    for (const verb of ['keygen', 'issue', 'verify', 'inspect']) {
      const r = licit([verb, '--help']);
      expect(r.code, verb).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: licit ${verb}`));
    }
    expect(licit(['issue', '--help', '--json']).json()).toMatchObject({ ok: true, usage: expect.stringMatching(/--signing-key FILE/) });
  });
  it('refuses device files, directories and huge files as key files without reading them (exit 2)', () => {
    for (const f of ['/dev/zero', dir]) {
      const r = licit(['verify', '--public-key', f, key, '--json']);
      expect(r.code, f).toBe(2);
      expect(r.json().error?.code).toBe('ERR_USAGE');
    }
    writeFileSync(join(dir, 'huge.pub'), Buffer.alloc(2 * 1024 * 1024, 0x41));
    expect(licit(['verify', '--public-key', join(dir, 'huge.pub'), key, '--json']).json().error?.message).toMatch(/larger than 1 MiB/);
  });
  it('refuses repeated single-value flags, extra arguments, impossible dates and --json=VALUE as usage errors', () => {
    const signing = join(dir, 'keys', 'vendor.key');
    const cases: string[][] = [
      ['issue', '--signing-key', signing, '--customer', 'A', '--customer', 'B'],
      ['issue', '--signing-key', signing, '--seats', 'a=1', '--seats', 'a=2'],
      ['issue', '--signing-key', signing, '--expires', '2027-02-30'],
      ['issue', '--signing-key', signing, '--credits', '99999999999999999999'],
      ['verify', '--public-key', pub, key, 'extra'],
      ['keygen', '--out', join(dir, 'k9'), 'extra'],
      ['verify', '--public-key', pub, '--now', '2026-02-30', key],
    ];
    for (const args of cases) {
      const r = licit([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json().error?.code, args.join(' ')).toBe('ERR_USAGE');
    }
    const r = licit(['verify', '--public-key', pub, key, '--json=1']);
    expect(r.code).toBe(2);
    expect(r.json().error?.code).toBe('ERR_USAGE');
  });
  it('issues keys expiring after 2106 and refuses a node-lock fingerprint no machine could match', () => {
    const signing = join(dir, 'keys', 'vendor.key');
    const far = licit(['issue', '--signing-key', signing, '--expires', '9999-12-31', '--json']);
    expect(far.code, far.stdout).toBe(0);
    const v = licit(['verify', '--public-key', pub, far.json().key as string, '--json']);
    // Through the end of 9999-12-31: its last second, the latest instant a key holds.
    expect(v.json()).toMatchObject({ ok: true, license: { expiresAt: '9999-12-31T23:59:59.000Z' } });
    const bad = licit(['issue', '--signing-key', signing, '--fingerprint', 'garbage', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.json().error?.code).toBe('ERR_FINGERPRINT_MALFORMED');
    for (const blank of ['', ' ']) expect(licit(['issue', '--signing-key', signing, `--fingerprint=${blank}`, '--json']).json().error?.code, JSON.stringify(blank)).toBe('ERR_FINGERPRINT_MALFORMED');
  });
  it('signs the standard form of a pasted fingerprint (spaces and line breaks dropped)', () => {
    const signing = join(dir, 'keys', 'vendor.key');
    const fp = licit(['fingerprint', '--salt', 'app', '--json']).json().fingerprint as string;
    const cut = fp.indexOf(',') > 0 ? fp.indexOf(',') + 1 : 10;
    for (const pasted of [`${fp.slice(0, cut)}\n${fp.slice(cut)}`, `${fp.slice(0, cut)} ${fp.slice(cut)}`, `  ${fp}\r\n`]) {
      const r = licit(['issue', '--signing-key', signing, '--fingerprint', pasted, '--json']);
      expect(r.code, r.stdout).toBe(0);
      const v = licit(['inspect', r.json().key as string, '--json']).json();
      expect(JSON.stringify(v), JSON.stringify(pasted)).toContain(`"fingerprint":"${fp}"`);
    }
  });
  it('refuses huge standard input without reading it all', () => {
    writeFileSync(join(dir, 'big'), 'A'.repeat(5 * 1024 * 1024));
    const r = licit(['verify', '--public-key', pub, '--json'], { input: readFileSync(join(dir, 'big'), 'utf8') });
    expect(r.code).toBe(1);
    expect(r.json().error?.code).toBe('ERR_KEY_TOO_LARGE');
  });
});
