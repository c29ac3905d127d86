/**
 * A review of the license server's trust promises (docs/security.md, "Threats") by an attacker:
 * a licensee with root on their machine who restores files from a backup, and a holder of a
 * license key with no activation left. Each case failed on the server before this review.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { CreditLedger } from '../src/node/ledger/credit-ledger.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { listening } from './helpers/listening.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const vendor = makeVendor();
const ADMIN = 'review-admin-token';
const work = mkdtempSync(join(tmpdir(), 'licit-review-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const machine = (name: string) => `fp1:su=${hashComponent('app', 'system-uuid', `uuid-${name}`)},mi=${hashComponent('app', 'machine-id', `mid-${name}`)}`;

describe('a licensee who restores the ledger from a backup, again and again', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ url, close } = await listening({ signingKey: vendor.privateKeyPem, store: new FileStore(join(work, 'store-restore')), adminToken: ADMIN, rateLimit: false, accessLog: false }));
  });
  afterAll(() => close());

  // Before: the server kept only the most each (ledger, installation) ever reported. A ledger
  // restored to an older backup reports less, its next lease raises it to the floor, and then
  // everything it spends again up to its old high-water mark was never counted. Restoring the
  // same backup after every renewal gave the licensee the whole allowance again each time,
  // without end, on one machine and one activation (no transfer, no reinstall).
  it('spending after a restore counts: the allowance is spent once, not once per restore', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-RESTORE', credits: 1000, maxActivations: 1, allowSuppliedMachineId: true });
    const secret = 'review-app-secret';
    const dir = join(work, 'restore-install');
    const ledgerDir = join(work, 'restore-ledger');
    const mirrorDir = join(work, 'restore-mirror');
    const open = async () => {
      const bare = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret, server: url, autoRenew: false, fingerprint: machine('restore') });
      const ledger = await CreditLedger.open(bare.license, { secret, dir: ledgerDir, mirrorDir, publicKeys: vendor.publicKeyPem });
      bare.close();
      const licensing = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret, server: url, autoRenew: false, fingerprint: machine('restore'), ledger });
      return { licensing, ledger, close: async () => { licensing.close(); await ledger.close(); } };
    };
    const spend = async (ledger: CreditLedger, max: number) => {
      let n = 0;
      while (n < max) {
        try {
          await ledger.consume(100);
          n += 100;
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ERR_CREDITS_EXHAUSTED');
          break;
        }
      }
      return n;
    };
    // Activate, spend a little, and back up both copies of the ledger.
    let s = await open();
    await s.licensing.activate();
    let spent = await spend(s.ledger, 100);
    await s.licensing.renew();
    await s.close();
    cpSync(ledgerDir, join(work, 'backup-ledger'), { recursive: true });
    cpSync(mirrorDir, join(work, 'backup-mirror'), { recursive: true });
    for (let round = 0; round < 4; round++) {
      s = await open();
      await s.licensing.renew(); // the floor of everything the vendor counted so far
      spent += await spend(s.ledger, 400); // up to what the vendor saw it spend
      await s.licensing.renew(); // reports what this round spent
      await s.close();
      // Restore both copies of the ledger from the backup (root can; the seal cannot see it).
      for (const [from, to] of [['backup-ledger', ledgerDir], ['backup-mirror', mirrorDir]] as const) {
        rmSync(to, { recursive: true, force: true });
        cpSync(join(work, from), to, { recursive: true });
      }
    }
    // Honest accounting: 1000 credits were sold, 1000 can be spent, and the vendor knows of all of it.
    expect(spent).toBe(1000);
    const res = await fetch(`${url}/v1/admin/usage?licenseId=LIC-RESTORE`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(((await res.json()) as { credits: { consumed: number } }).credits.consumed).toBe(1000);
  }, 60_000);
});

describe('an activation that is refused', () => {
  const ask = async (server: LicenseServer, op: RequestInput['operation'], inst: InstallationSigner, fields: Partial<RequestInput> & { licenseId: string }) => {
    const request = await createRequest({ operation: op, fingerprint: machine(inst.kid), nonce: newNonce(), clientTime: new Date(), ...fields }, inst);
    const res = await server.handle(new Request(`http://x/v1/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) }));
    return (await res.json()) as { ok: boolean; error?: { code: string }; floor?: number };
  };
  const admin = async (server: LicenseServer, path: string) =>
    (await (await server.handle(new Request(`http://x${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }))).json()) as Record<string, any>;

  // Before: the nonce, the reported spending and seats were recorded (in #recordExchange) before
  // the activation was counted, so a request refused with ERR_ACTIVATIONS_EXHAUSTED (or
  // ERR_USER_NOT_FOUND with autoAddUsers: false) still added its `spent` to the license's
  // consumption. Anyone holding the license key (a former machine, a leaked key) but no
  // activation could, with fresh installation keys and ledger ids, raise the floor of every
  // installation of the license to its whole allowance: usage from a non-activated installation.
  it('records no usage: the floor of the activated installations stays what they spent', async () => {
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: ADMIN, rateLimit: false });
    const key = await vendor.issue({ licenseId: 'LIC-FULL', credits: 100, maxActivations: 1, seats: { basic: 5 } });
    const owner = installation();
    expect((await ask(server, 'activate', owner, { licenseId: 'LIC-FULL', licenseKey: key })).ok).toBe(true);
    for (let i = 0; i < 3; i++) {
      const r = await ask(server, 'activate', installation(), { licenseId: 'LIC-FULL', licenseKey: key, spent: 100, ledgerId: newNonce(), consumed: 100, seats: { basic: 5 } });
      expect(r.error?.code).toBe('ERR_ACTIVATIONS_EXHAUSTED');
    }
    const usage = await admin(server, '/v1/admin/usage?licenseId=LIC-FULL');
    expect(usage.credits.consumed).toBe(0);
    expect(Object.keys(usage.seatsReported)).toHaveLength(0);
    expect((await ask(server, 'renew', owner, { licenseId: 'LIC-FULL', licenseKey: key, spent: 10, ledgerId: 'ab'.repeat(16) })).floor).toBe(10);

    const closed = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: ADMIN, rateLimit: false, autoAddUsers: false });
    const key2 = await vendor.issue({ licenseId: 'LIC-CLOSED', credits: 100, maxActivations: 5 });
    const r = await ask(closed, 'activate', installation(), { licenseId: 'LIC-CLOSED', licenseKey: key2, user: 'nobody', spent: 100, ledgerId: newNonce() });
    expect(r.error?.code).toBe('ERR_USER_NOT_FOUND');
    expect((await admin(closed, '/v1/admin/usage?licenseId=LIC-CLOSED')).credits.consumed).toBe(0);
  });
});
