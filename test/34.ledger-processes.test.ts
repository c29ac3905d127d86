/**
 * Several real processes (the built CLI) consuming from one ledger at once: serialised by the
 * ledger lock, they end with exactly the sum they were acknowledged, and a limited allowance is
 * never overspent. Also the CLI's credits verbs end to end.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LICIT_BIN, licit } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';
import { describeBuilt } from './fixtures/ledger-built.js';
import { readCopy, writeCopy } from './helpers/ledger-disk.js';

const ENV = { LICIT_SECRET: 'processes-test-secret' };
const COMPACT_CHILD = new URL('./fixtures/ledger-compact-child.mjs', import.meta.url).pathname;

function consumer(args: string[]): Promise<{ acks: number[]; code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [LICIT_BIN, ...args], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.on('close', (code) => resolve({ acks: [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])), code, stdout: out }));
  });
}

describeBuilt('ledger across processes (built CLI)', () => {
  it('four processes consuming at once end with exactly the acknowledged sum', { timeout: 120_000 }, async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34', credits: 1_000_000 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const base = ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm')];
    const runs = await Promise.all(Array.from({ length: 4 }, () => consumer([...base, 'consume', '2', '--repeat', '60'])));
    for (const r of runs) expect(r.code).toBe(0);
    const all = runs.flatMap((r) => r.acks);
    expect(all).toHaveLength(240);
    // Every acknowledged total is distinct: no two processes ever wrote on the same state.
    expect(new Set(all).size).toBe(240);
    const status = licit([...base, 'status', '--json'], { env: ENV }).json();
    expect(status).toMatchObject({ ok: true, consumed: 480, allowance: 1_000_000, remaining: 1_000_000 - 480 });
    expect(licit([...base, 'verify', '--json'], { env: ENV }).json()).toMatchObject({ ok: true, records: 240, primary: 'ok', mirror: 'ok' });
  });

  it('four processes consuming while the ledger compacts every few records: exact sum, every record kept, fast open', { timeout: 120_000 }, async () => {
    const license = { id: 'LIC-34R', credits: 1_000_000, carriedCredits: 0 };
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const at = { dir: join(root, 'p'), mirrorDir: join(root, 'm') };
    const child = () =>
      new Promise<{ acks: number[]; code: number | null; stderr: string }>((resolve) => {
        const env = { ...process.env, LICIT_COMPACT_CHILD: JSON.stringify({ license, secret: ENV.LICIT_SECRET, ...at, compactBytes: 2048, count: 60 }) };
        const c = spawn(process.execPath, [COMPACT_CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        c.on('close', (code) => resolve({ acks: [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])), code, stderr: err }));
      });
    const runs = await Promise.all(Array.from({ length: 4 }, child));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const all = runs.flatMap((r) => r.acks);
    expect(new Set(all).size).toBe(240);
    const { CreditLedger } = await import('../src/node/ledger/credit-ledger.js');
    const { AppendLog } = await import('../src/node/log/append-log.js');
    const l = await CreditLedger.open(license, { secret: ENV.LICIT_SECRET, ...at });
    // Many rolls happened, in both copies, and every record is still there, in order.
    for (const copy of [l.paths.primary, l.paths.mirror]) expect(readdirSync(copy).filter((n) => n.startsWith('log-')).length, copy).toBeGreaterThan(5);
    expect(await l.verify()).toMatchObject({ consumed: 240, records: 240, primary: 'ok', mirror: 'ok' });
    expect((await l.history()).map((e) => e.consumed)).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    await l.close();
    expect(AppendLog.readAll(l.paths.mirror, 'credits:LIC-34R')).toHaveLength(240);
  });

  it('two installations with their own primaries and one shared mirror take turns: no acknowledged consume is lost', { timeout: 120_000 }, async () => {
    // The default mirror depends only on the application name, so two installations of one app
    // for the same license under one user share it; the lock beside the mirror serialises them.
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34S', credits: 1_000_000 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const at = (p: string) => ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, p), '--mirror-dir', join(root, 'm')];
    const runs = await Promise.all(['pA', 'pB'].map((p) => consumer([...at(p), 'consume', '1', '--repeat', '150'])));
    for (const r of runs) expect(r.code, r.stdout).toBe(0);
    const all = runs.flatMap((r) => r.acks);
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    // Both views agree on every acknowledged consume, and both verify.
    for (const p of ['pA', 'pB']) {
      expect(licit([...at(p), 'status', '--json'], { env: ENV }).json(), p).toMatchObject({ ok: true, consumed: 300 });
      expect(licit([...at(p), 'verify', '--json'], { env: ENV }).json(), p).toMatchObject({ ok: true, records: 300 });
    }
  });

  it('a limited allowance is spent exactly once across processes', { timeout: 120_000 }, async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34B', credits: 50 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const base = ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm')];
    const runs = await Promise.all(Array.from({ length: 3 }, () => consumer([...base, 'consume', '1', '--repeat', '40', '--json'])));
    const acks = runs.reduce((n, r) => n + r.stdout.split('\n').filter((l) => l.includes('"ack"')).length, 0);
    expect(acks).toBe(50);
    // The processes that ran out say so as JSON and exit 1.
    for (const r of runs.filter((x) => x.code !== 0)) expect(r.stdout).toContain('"code":"ERR_CREDITS_EXHAUSTED"');
    expect(licit([...base, 'status', '--json'], { env: ENV }).json()).toMatchObject({ consumed: 50, remaining: 0 });
  });

  it('CLI: topup (vendor) and credits topup/status/history/verify, forged tokens refused', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34C', credits: 5, carriedCredits: 2 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const base = ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm')];
    // Both copies missing while the license says 2 were spent.
    expect(licit([...base, 'status', '--json'], { env: ENV }).json().error?.code).toBe('ERR_LEDGER_MISSING');
    expect(licit([...base, '--recover', 'status', '--json'], { env: ENV }).json()).toMatchObject({ allowance: 5, consumed: 2, remaining: 3 });
    const t = licit(['topup', '--signing-key', vendor.keyPath, '--license-id', 'LIC-34C', '--credits', '10', '--json']).json();
    expect(t.ok).toBe(true);
    const token = t.token as string;
    expect(licit([...base, 'topup', token, '--json'], { env: ENV }).json()).toMatchObject({ applied: true, allowance: 15, remaining: 13 });
    expect(licit([...base, 'topup', token, '--json'], { env: ENV }).json()).toMatchObject({ applied: false, allowance: 15 });
    // A token signed by someone else.
    const other = makeVendor();
    const forged = licit(['topup', '--signing-key', other.keyPath, '--license-id', 'LIC-34C', '--credits', '1000']).stdout.trim();
    const f = licit([...base, 'topup', forged, '--json'], { env: ENV });
    expect(f.code).toBe(1);
    expect(f.json().error?.code).toBe('ERR_KEY_UNKNOWN_SIGNER');
    // A token whose signature was altered (a character inside the trailing signature).
    const i = token.length - 20;
    const altered = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    expect(licit([...base, 'topup', altered, '--json'], { env: ENV }).json().error?.code).toBe('ERR_KEY_SIGNATURE');
    expect(licit([...base, 'status', '--json'], { env: ENV }).json()).toMatchObject({ allowance: 15 });
    const c = licit([...base, 'consume', '13', '--json'], { env: ENV });
    expect(JSON.parse(c.stdout.trim())).toMatchObject({ ok: true, ack: 15 });
    const x = licit([...base, 'consume', '1', '--json'], { env: ENV });
    expect(x.code).toBe(1);
    expect(x.json().error?.code).toBe('ERR_CREDITS_EXHAUSTED');
    const h = licit([...base, 'history', '--json'], { env: ENV }).json();
    expect((h.entries as { kind: string }[]).map((e) => e.kind)).toEqual(['carry', 'topup', 'consume']);
    expect(licit([...base, 'verify'], { env: ENV }).stdout).toMatch(/verifies: 3 records/);
    // A wrong LICIT_SECRET: tampering's code, but the message points at the secret.
    const w = licit([...base, 'status', '--json'], { env: { LICIT_SECRET: 'not-the-app-secret' } });
    expect(w.code).toBe(1);
    expect(w.json().error?.code).toBe('ERR_LEDGER_TAMPERED');
    expect(w.json().error?.message).toMatch(/altered, or it was sealed with another secret.*LICIT_SECRET/);
    // No secret at all (or an empty one): refused, never a default secret anyone could know.
    for (const env of [{ LICIT_SECRET: '' }, { LICIT_SECRET: undefined }]) {
      const n = licit([...base, 'status', '--json'], { env });
      expect(n.code).toBe(1);
      expect(n.json().error).toMatchObject({ code: 'ERR_SECRET_REQUIRED', message: expect.stringMatching(/--secret-file FILE .*LICIT_SECRET/) });
    }
    // --secret-file (one trailing line break ignored) takes precedence over the environment.
    writeFileSync(join(root, 'secret'), `${ENV.LICIT_SECRET}\n`);
    expect(licit([...base, '--secret-file', join(root, 'secret'), 'status', '--json'], { env: { LICIT_SECRET: 'wrong' } }).json()).toMatchObject({ ok: true, consumed: 15 });
    writeFileSync(join(root, 'empty'), '');
    expect(licit([...base, '--secret-file', join(root, 'empty'), 'status', '--json'], { env: ENV }).json().error?.code).toBe('ERR_SECRET_REQUIRED');
    expect(licit([...base, 'status', '--json'], { env: ENV }).json()).toMatchObject({ consumed: 15 });
    expect(licit([...base, 'consume', '0'], { env: ENV }).code).toBe(2);
    expect(licit([...base, 'frobnicate'], { env: ENV }).code).toBe(2);
  });

  it('CLI: consume --repeat 0 and top-up ids no ledger accepts are usage errors, not silent successes', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34E', credits: 5 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const base = ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm')];
    const r = licit([...base, 'consume', '1', '--repeat', '0', '--json'], { env: ENV });
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'ERR_USAGE', message: '--repeat must be 1 or more, got 0' });
    expect(licit([...base, 'status', '--repeat', '2', '--json'], { env: ENV }).code).toBe(2);
    const topup = (...extra: string[]) => licit(['topup', '--signing-key', vendor.keyPath, '--credits', '3', '--json', ...extra]);
    for (const [flag, bad] of [['--token-id', ''], ['--token-id', 'a\nb'], ['--token-id', 'x'.repeat(129)], ['--token-id', ' T1'], ['--license-id', 'LIC-34E\u0007']]) {
      const t = topup('--license-id', 'LIC-34E', flag as string, bad as string);
      expect(t.code, `${flag} ${JSON.stringify(bad)}`).toBe(2);
      expect(t.json().error?.code).toBe('ERR_USAGE');
      expect(t.json().error?.message).toContain(flag);
      expect(t.json()).not.toHaveProperty('token');
    }
    // A valid token id still signs, and the ledger takes it.
    const ok = topup('--license-id', 'LIC-34E', '--token-id', 'T-ü'.padEnd(20, 'x'));
    expect(ok.code, ok.stdout).toBe(0);
    expect(licit([...base, '--recover', 'topup', ok.json().token as string, '--json'], { env: ENV }).json()).toMatchObject({ ok: true, applied: true, tokenId: 'T-ü'.padEnd(20, 'x') });
  });

  it('CLI: a file given as --dir or --mirror-dir is named as a file, not a lock error', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34D', credits: 5 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const file = join(root, 'afile');
    writeFileSync(file, 'x');
    for (const [flag, args] of [['--dir', ['--dir', file, '--mirror-dir', join(root, 'm')]], ['--mirror-dir', ['--dir', join(root, 'p'), '--mirror-dir', file]]] as const) {
      const r = licit(['credits', '--license', key, '--public-key', vendor.pubPath, ...args, 'status', '--json'], { env: ENV });
      expect(r.code).toBe(2);
      expect(r.json().error?.code).toBe('ERR_USAGE');
      expect(r.json().error?.message).toBe(`${flag} ${file} is a file, not a directory; give a directory path (it is created if missing)`);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('CLI: verify reports what opening found (missing, behind) and a tampered copy names what the other holds', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34E', credits: 50 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const base = ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm')];
    expect(licit([...base, 'verify', '--json'], { env: ENV }).json()).toMatchObject({ created: true, records: 0 });
    expect(licit([...base, 'consume', '1', '--reason', 'two\nlines \u001b[31mred', '--json'], { env: ENV }).code).toBe(0);
    const paths = licit([...base, 'status', '--json'], { env: ENV }).json().paths as { primary: string; mirror: string };
    const afterOne = readCopy(paths.primary);
    expect(licit([...base, 'consume', '1', '--repeat', '2', '--reason', 'two\nlines \u001b[31mred', '--json'], { env: ENV }).code).toBe(0);
    rmSync(paths.mirror, { recursive: true });
    const v1 = licit([...base, 'verify', '--json'], { env: ENV }).json();
    expect(v1).toMatchObject({ ok: true, created: false, consumed: 3, primary: 'ok', mirror: 'missing' });
    expect(licit([...base, 'verify'], { env: ENV }).stdout).toMatch(/Primary ok, mirror ok\./); // repaired by the run before
    writeCopy(paths.primary, afterOne); // an older primary restored from a backup
    expect(licit([...base, 'verify', '--json'], { env: ENV }).json()).toMatchObject({ consumed: 3, primary: 'behind', mirror: 'ok' });
    // Control characters in a stored reason are shown escaped, never raw.
    const history = licit([...base, 'history'], { env: ENV }).stdout;
    expect(history.trim().split('\n')).toHaveLength(3);
    expect(history).toContain('two\\u{a}lines \\u{1b}[31mred');
    // One flipped byte in the primary (its head file): it no longer verifies, and the message says
    // what the mirror holds (what an administrator who restored or edited the file needs to know).
    const damaged = Buffer.from(readFileSync(join(paths.primary, 'head')));
    damaged[1] = (damaged[1] as number) ^ 1;
    writeFileSync(join(paths.primary, 'head'), damaged);
    const t = licit([...base, 'status', '--json'], { env: ENV }).json();
    expect(t.error?.code).toBe('ERR_LEDGER_TAMPERED');
    expect(t.error?.message).toMatch(/The mirror copy verifies: 3 records, 3 credits consumed\. If the primary was restored or edited by hand, move it aside/);
    expect(licit([...base, 'consume', '-1', '--json'], { env: ENV }).json().error?.message).toMatch(/^negative numbers are not accepted, got -1/);
  });

  it('CLI: a closed standard output stops consume --repeat at once (exit 141, no stack trace), losing no acknowledged credit', async () => {
    const vendor = makeVendor();
    const key = await vendor.issue({ licenseId: 'LIC-34F', credits: 1000 });
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const base = ['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm')];
    const { code, stderr, acks } = await new Promise<{ code: number | null; stderr: string; acks: number[] }>((resolve) => {
      const c = spawn(process.execPath, [LICIT_BIN, ...base, 'consume', '1', '--repeat', '500'], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      c.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.split('\n').length > 3) c.stdout.destroy(); // read three acks, then hang up like `head -n 3`
      });
      c.on('close', (exit) => resolve({ code: exit, stderr: err, acks: [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])) }));
    });
    expect(code).toBe(141);
    expect(stderr).toBe('');
    const seen = Math.max(...acks);
    const consumed = licit([...base, 'status', '--json'], { env: ENV }).json().consumed as number;
    expect(consumed).toBeGreaterThanOrEqual(seen);
    expect(consumed).toBeLessThan(500);
    // And a verb whose single line meets a closed pipe.
    const fp = spawn(process.execPath, [LICIT_BIN, 'fingerprint', '--json', '--salt', 's'], { stdio: ['ignore', 'pipe', 'pipe'] });
    fp.stdout.destroy();
    let fpErr = '';
    fp.stderr.setEncoding('utf8').on('data', (d: string) => (fpErr += d));
    expect(await new Promise((r) => fp.on('close', r))).toBe(141);
    expect(fpErr).toBe('');
  });

  it('CLI: credits and verify check node-locked licenses against this machine (--salt, else the salt of the first --public-key) or a supplied id (--machine-id)', async () => {
    const vendor = makeVendor();
    const root = mkdtempSync(join(tmpdir(), 'licit-34-'));
    const fingerprint = (...args: string[]) => licit(['fingerprint', '--json', ...args]).json().fingerprint as string;
    const here = await vendor.issue({ licenseId: 'LIC-34G', credits: 5, fingerprint: fingerprint('--salt', 'com.example.app') });
    // Without --salt, credits and verify use the vendor's salt, as `licit fingerprint --public-key` does.
    const box = await vendor.issue({ licenseId: 'LIC-34H', credits: 5, fingerprint: fingerprint('--public-key', vendor.pubPath, '--machine-id', 'box-1') });
    const credits = (key: string, ...args: string[]) =>
      licit(['credits', '--license', key, '--public-key', vendor.pubPath, '--dir', join(root, 'p'), '--mirror-dir', join(root, 'm'), ...args, 'status', '--json'], { env: ENV });
    expect(credits(here, '--salt', 'com.example.app').json()).toMatchObject({ ok: true, allowance: 5 });
    expect(credits(here).json().error?.code).toBe('ERR_FINGERPRINT_MISMATCH'); // another salt, another fingerprint
    expect(credits(box, '--machine-id', 'box-1').json()).toMatchObject({ ok: true, allowance: 5 });
    expect(credits(box, '--machine-id', 'box-2').json().error?.code).toBe('ERR_FINGERPRINT_MISMATCH');
    const verify = (key: string, ...args: string[]) => licit(['verify', '--public-key', vendor.pubPath, key, '--json', ...args]);
    expect(verify(box, '--machine-id', 'box-1').json()).toMatchObject({ ok: true, status: 'valid' });
    expect(verify(box).json().error?.code).toBe('ERR_FINGERPRINT_MISMATCH');
    // The vendor's report reads a node-locked key's limits without checking the vendor's own machine.
    mkdirSync(join(root, 'store'));
    const report = licit(['report', '--store', join(root, 'store'), '--license', box, '--public-key', vendor.pubPath, '--range', 'day', '--json']);
    expect(report.json()).toMatchObject({ ok: true, report: { licenseId: 'LIC-34H' } });
  });
});
