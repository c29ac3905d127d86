/**
 * `licit portal` over a FileStore, and `licit serve` on the same store serving the portal: a
 * company and its administrator made from the command line sign in to the pages of a real
 * `licit serve` process (the built CLI, as users run it).
 */
import { mkdtempSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { licit } from './helpers/cli.js';
import { Browser } from './helpers/portal.js';
import { startServer } from './helpers/serve.js';
import { makeVendor } from './helpers/vendor.js';

const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
});

describe('licit portal and licit serve', () => {
  it('creates a company and an administrator; licit serve serves the portal they sign in to', async () => {
    const vendor = makeVendor();
    const dir = mkdtempSync(join(tmpdir(), 'licit-portal-cli-'));
    const store = join(dir, 'store');
    expect(licit(['issue', '--signing-key', vendor.keyPath, '--license-id', 'LIC-CLI2', '--customer', 'Acme Corp', '--store', store]).code).toBe(0);

    const created = licit(['portal', 'add-company', 'acme', '--name', 'Acme Corp', '--customer', 'Acme Corp', '--store', store, '--json']);
    expect(created.code, created.stderr + created.stdout).toBe(0);
    expect(created.json().company).toMatchObject({ code: 'ACME', customers: ['Acme Corp'] });
    const again = licit(['portal', 'add-company', 'ACME', '--name', 'Other', '--store', store, '--json']);
    expect([again.code, again.json().error?.code]).toEqual([1, 'ERR_ACCOUNT_EXISTS']);
    const bad = licit(['portal', 'add-company', 'a', '--name', 'x', '--store', store, '--json']);
    expect([bad.code, bad.json().error?.code]).toEqual([2, 'ERR_USAGE']);
    const account = licit(['portal', 'add-admin', 'ACME', '--email', 'it@acme.example', '--store', store]);
    expect(account.code, account.stderr).toBe(0);
    const initial = /initial password\n {2}(\S+)\n/.exec(account.stdout)?.[1] as string;
    expect(initial).toMatch(/^[A-Za-z0-9]{16}$/);
    const reset = licit(['portal', 'reset-admin', 'ACME', '--email', 'it@acme.example', '--store', store, '--json']);
    expect(reset.code, reset.stderr).toBe(0);
    const initial2 = reset.json().initialPassword as string;
    expect(initial2).not.toBe(initial);
    const nobody = licit(['portal', 'remove-admin', 'ACME', '--email', 'nobody@acme.example', '--store', store, '--json']);
    expect([nobody.code, nobody.json().error?.code]).toEqual([1, 'ERR_USER_NOT_FOUND']);
    const list = licit(['portal', 'companies', '--store', store]);
    expect(list.stdout).toContain('ACME  Acme Corp  customers: Acme Corp  licenses: -  administrators: it@acme.example');

    const { url } = await startServer(['--signing-key', vendor.keyPath, '--store', store, '--no-access-log'], procs, { LICIT_ADMIN_TOKEN: 'cli-portal-token-0123456789' });
    const b = new Browser(url);
    const res = await b.signIn({ company: 'acme', email: 'it@acme.example', password: initial2 });
    expect(res.headers.get('location')).toBe('/portal/password');
    const csrf = await b.csrf('/portal/password');
    expect((await b.post('/portal/password', { csrf, current: initial2, next: 'acme-chosen-pass', repeat: 'acme-chosen-pass' })).res.status).toBe(303);
    const page = await b.get('/portal/licenses');
    expect(page.res.status).toBe(200);
    expect(page.body).toContain('LIC-CLI2');
    expect(page.res.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The store holds only the hash, and its audit trail the company's events.
    const log = licit(['log', '--store', store, '--license-id', 'portal:ACME', '--json']);
    expect(log.code, log.stderr).toBe(0);
    expect(JSON.stringify(log.json())).toContain('portal.company-created');
    expect(log.stdout).not.toContain('acme-chosen-pass');
  }, 120_000);
});
