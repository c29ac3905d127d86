// `npm run demo`: the whole job, start to finish, in a few seconds and with nothing to set up.
// A vendor makes a key pair, issues a node-locked license and runs the license server on loopback;
// an application activates against it, assigns seats, spends credits, gets a top-up and renews;
// the vendor then reads the report and the verified audit log. Last, what the key enforces offline.
// Uses only the public API, imported by package name exactly as an application and a vendor would.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLicenseError, verifyLicense } from 'licit';
import { computeReport, findLicenses, readVerifiedLog, recordIssue, withAuditChain } from 'licit/admin';
import { issueLicense, writeKeyPair } from 'licit/issuer';
import { CreditLedger, FileStore, Licensing, fileClockGuard, fingerprintStrength, getFingerprint } from 'licit/node';
import { SeatManager } from 'licit/seats';
import { createLicenseServer, verifyWebhook } from 'licit/server';

const DAY = 86_400_000;
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'licit-demo-'));
const dir = (name) => join(work, name);

// One clock for the vendor's server and the application: the real one, plus the days this demo
// says it lets pass (it says so whenever it does).
let skipped = 0;
const clock = () => Date.now() + skipped;
const day = (ms = clock()) => new Date(ms).toISOString().slice(0, 10);
const when = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

let n = 0;
const step = (title, pretend = `today (${day()})`) => console.log(`\n${++n}. ${title}  [${pretend}]`);
const show = (label, value) => console.log(`   ${label.padEnd(24)} ${value}`);
const real = (text) => console.log(`   In a real deployment: ${text}`);
const refused = (label, e) => {
  if (!isLicenseError(e)) throw e;
  show(label, `${e.code}`);
  console.log(`   ${''.padEnd(24)} "${e.message}"`);
};

// Everything opened below, closed at the end whatever happens.
const closers = [];
let exitCode = 0;
try {
  console.log('licit demo: a vendor sells a node-locked license; an application activates, counts seats');
  console.log('and credits, renews; the vendor reads the report and the audit log. All on this machine.');
  console.log(`The demo uses the real clock (today is ${day()}) and says so when it lets time pass.`);

  // ---------------------------------------------------------------- vendor
  step('The vendor makes an Ed25519 key pair (once)');
  const keys = await writeKeyPair(dir('vendor'));
  const signingKey = readFileSync(keys.privateKeyPath, 'utf8');
  const publicKeys = [readFileSync(keys.publicKeyPath, 'utf8')];
  show('private key', `${keys.privateKeyPath} (mode 0600, stays with the vendor)`);
  show('public key', `vendor.pub (shipped inside the application), key id ${keys.kid}`);
  real('`licit keygen --out keys` on the vendor\'s machine; the private key lives in a secrets manager or an offline box, never in the app.');

  step("The customer's machine reads its fingerprint; the vendor issues a node-locked license to it");
  const salt = 'com.example.licit-demo'; // the application's own fingerprint salt, fixed forever
  let fp = await getFingerprint({ salt });
  let machineId; // only when this machine has no strong hardware identity (some containers)
  if (fingerprintStrength(fp).level === 'weak') {
    machineId = `licit-demo-${hostname()}`;
    fp = await getFingerprint({ salt, machineId });
    show('note', 'this machine has no strong hardware identity; the demo supplies a machine id instead');
  }
  show('fingerprint', `${fp.toString().slice(0, 60)}… (salted hashes only)`);
  const key = await issueLicense(
    {
      licenseId: 'LIC-DEMO-0042',
      customer: 'ACME Manufacturing GmbH',
      edition: 'professional',
      features: ['timesheets', 'reports'],
      seats: { basic: 2, advanced: 1 },
      maxActivations: 2,
      credits: 100,
      leaseDays: 14,
      graceDays: 14,
      expiresAt: new Date(clock() + 365 * DAY),
      fingerprint: fp.toString(),
      ...(machineId === undefined ? {} : { allowSuppliedMachineId: true }),
    },
    { signingKey },
  );
  // The vendor's store: the license registry, the server's state and its hash-chained audit log.
  const fileStore = new FileStore(dir('vendor-store'));
  closers.push(() => fileStore.close());
  const vendorStore = withAuditChain(fileStore); // what `licit issue --store` and the server write through
  const issued = await verifyLicense(key, { publicKeys, now: clock, machine: () => undefined });
  await recordIssue(vendorStore, issued, { actor: 'vendor', issuedBy: 'sales@vendor.example', source: 'issuer' });
  const [entry] = await findLicenses(vendorStore, { customer: 'acme' });
  show('license', `${issued.id} for ${issued.customer}: seats basic=2 advanced=1, 2 devices, 100 credits`);
  show('lease', `${issued.leaseDays} days: the app must check in with the server at least that often`);
  show('expires', when(issued.expiresAt.getTime()));
  show('registry', `${entry.licenseId} ${entry.state}, issued by ${entry.issuedBy} (licit licenses list)`);
  show('license key', `${key.slice(0, 48)}… (${key.length} characters, sent to the customer)`);
  real('`licit fingerprint --salt …` on the customer\'s machine, then `licit issue --fingerprint … --store …`; the store is PostgreSQL (licit/postgres) for a fleet.');

  step('The vendor starts the license server on loopback, with a top-up policy and a webhook');
  const webhookSecret = 'demo-webhook-secret';
  const delivered = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        const d = verifyWebhook(body, req.headers['licit-signature'], webhookSecret, { now: clock });
        delivered.push(d.type);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => (receiver.close(r), receiver.closeAllConnections())));
  const server = createLicenseServer({
    signingKey,
    store: vendorStore,
    now: clock,
    accessLog: false, // `licit serve` prints one line per request; the demo prints its own
    // An installation asking for credits gets up to 200 per ask.
    topUpPolicy: ({ requested }) => Math.min(requested, 200),
    webhooks: { endpoints: [{ url: `http://127.0.0.1:${receiver.address().port}/licit`, secret: webhookSecret, kinds: '*' }], scanMs: 100, retryMs: 100 },
  });
  const listening = await server.listen(0, '127.0.0.1');
  closers.push(() => listening.close(1000)); // closed first (closers run last to first)
  const url = `http://127.0.0.1:${listening.port}`;
  show('license server', `${url} (store: ${dir('vendor-store')})`);
  show('top-up policy', 'grant what is asked, at most 200 credits per ask');
  show('webhook', `every event, signed, to http://127.0.0.1:${receiver.address().port}/licit`);
  real('`licit serve --store … --webhook https://crm.example.com/licit --webhook-secret-file …` behind TLS (docs/deploy.md), secrets from files, PostgreSQL as the store.');

  // ---------------------------------------------------------------- application
  step('The application opens its license and activates against the server');
  const appSecret = 'demo-application-secret';
  let seats; // the application's seat manager, reported to the server with every exchange
  const ledgerDirs = { dir: dir('app/credits'), mirrorDir: dir('app/credits-mirror') };
  const ledger = await CreditLedger.open(issued, { secret: appSecret, publicKeys, thresholds: [20], now: clock, ...ledgerDirs });
  closers.push(() => ledger.close());
  const licensing = await Licensing.open({
    license: key,
    publicKeys,
    salt,
    ...(machineId === undefined ? {} : { machineId }),
    dir: dir('app/licensing'),
    secret: appSecret,
    server: url,
    now: clock,
    ledger,
    seatUsage: async () => Object.fromEntries((seats === undefined ? [] : await seats.usage()).map((u) => [u.type, u.inUse])),
    autoRenew: false, // the demo renews by hand below; an application leaves this on
  });
  closers.push(() => licensing.close());
  show('before', `status ${licensing.status}`);
  await licensing.activate();
  show('after activate()', `status ${licensing.status}, device ${licensing.installation.id}`);
  show('verified until', `${when(licensing.verifiedUntil.getTime())} (the lease: works offline until then)`);
  show("has('reports')", `${licensing.has('reports')}  (O(1), no I/O)`);
  show("has('payroll')", `${licensing.has('payroll')}`);
  real('the vendor.pub and the salt are compiled into the app, the secret comes from the app\'s own keystore, the server URL is https://, and the app renews in the background (autoRenew).');

  step('The application assigns named seats until the license says no');
  const appStore = new FileStore(dir('app/seats'));
  closers.push(() => appStore.close());
  seats = new SeatManager(appStore, licensing.license);
  for (const [user, type] of [['ann@acme.example', 'basic'], ['bob@acme.example', 'basic'], ['cleo@acme.example', 'advanced'], ['dan@acme.example', 'basic']]) {
    try {
      await seats.assign(user, type);
      show(`assign ${type}`, `${user}: ok`);
    } catch (e) {
      refused(`assign ${type}`, e);
    }
  }
  show('in use', (await seats.usage()).map((u) => `${u.type} ${u.inUse}/${u.licensed}`).join(', '));
  real('seats live in the application\'s shared store (FileStore across processes on one host, PostgresStore across a fleet); an admin frees one with `licit seats release`.');

  step('The application spends credits until the low-credit alert fires, then gets a top-up');
  const alerts = [];
  ledger.on('threshold', (e) => {
    if (e.direction === 'down') alerts.push(e);
  });
  let spent = 0;
  while (alerts.length === 0) {
    const r = await ledger.consume(10, { reason: 'pdf export' });
    spent += 10;
    show(`consume(10) #${spent / 10}`, `${r.remaining} credits left`);
  }
  show('threshold alert', `remaining ${alerts[0].remaining} crossed the threshold of ${alerts[0].threshold}: ask for more`);
  const topUp = await licensing.requestTopUp(100, { idempotencyKey: `${issued.id}:low-credits:1` });
  show('top-up', `asked ${topUp.requested}, the server granted ${topUp.granted} (token ${String(topUp.tokenId).slice(0, 12)}…)`);
  const balance = await ledger.balance();
  show('new balance', `${balance.remaining} credits left (licensed 100 + topped up ${balance.toppedUp} - consumed ${balance.consumed})`);
  real('the threshold event (or an AlertMonitor rule with a topUp hook) asks; the vendor\'s topUpPolicy checks the contract or bills the card before granting; offline machines use `licit request`/`respond`/`apply`.');

  // ---------------------------------------------------------------- renewal
  const before = licensing.verifiedUntil.getTime();
  skipped += 10 * DAY;
  step('Ten days later the application renews its lease', `simulated: 10 days pass, now ${day()}`);
  await licensing.renew();
  const after = licensing.verifiedUntil.getTime();
  show('verified until (before)', when(before));
  show('verified until (after)', `${when(after)} (+${Math.round((after - before) / DAY)} days)`);
  show('status', licensing.status);
  real('nobody waits ten days: the app renews by itself in the background well before the lease ends, and keeps working offline until it does.');

  // ---------------------------------------------------------------- vendor reads
  step("The vendor reads this license's report and its verified audit log", `simulated: ${day()}`);
  await new Promise((r) => setTimeout(r, 400)); // let the webhook deliveries catch up
  const report = await computeReport(vendorStore, issued.id, { kind: 'custom', from: started - DAY, to: clock() + DAY }, { now: clock, verify: true, licensed: issued.seats, maxActivations: issued.maxActivations });
  const act = report.limits.find((l) => l.type === 'activations');
  show('report: devices', act === undefined ? 'none' : `${act.inUse} of ${act.licensed} activated`);
  show('report: credits', `consumed ${report.credits.consumed}, added ${report.credits.added} by ${report.topUps.credits} top-up(s)`);
  show('report: events', `${report.events} audit events in the range`);
  const log = await readVerifiedLog(vendorStore, issued.id);
  show('verified log', `${log.events.length} events, hash chain intact (head ${log.head.hash.slice(0, 16)}…)`);
  for (const e of log.events.slice(0, 8)) console.log(`     #${String(e.seq).padEnd(3)} ${e.at.slice(0, 19)}  ${e.kind.padEnd(20)} ${e.actor}`);
  if (log.events.length > 8) console.log(`     … ${log.events.length - 8} more`);
  show('webhooks received', delivered.length === 0 ? 'none yet' : `${delivered.length}, signatures verified: ${[...new Set(delivered)].join(', ')}`);
  real('`licit report --range month --html report.html` and `licit log` against the same store, or GET /v1/admin/reports and /v1/admin/log with the admin token.');

  // ---------------------------------------------------------------- offline
  step('What the key itself enforces offline, with no server', `simulated dates, each named`);
  const guard = fileClockGuard(dir('app/clock'), { secret: appSecret });
  const at = (ms) => ({ publicKeys, now: () => ms, clockGuard: guard, machine: () => undefined });
  const lic = await verifyLicense(key.replace(/(.{64})/g, '$1\n'), at(clock()));
  show(`${day()}`, `${lic.status}, ${lic.report.daysLeft} days left (key pasted with line breaks: fine)`);
  try {
    lic.require('payroll');
  } catch (e) {
    refused("require('payroll')", e);
  }
  const flipped = key.slice(0, 100) + (key[100] === 'A' ? 'B' : 'A') + key.slice(101);
  try {
    await verifyLicense(flipped, at(clock()));
    show('one character changed', 'ACCEPTED (this must never happen)');
    exitCode = 1;
  } catch (e) {
    show('one character changed', isLicenseError(e) ? e.code : String(e));
  }
  const expiry = issued.expiresAt.getTime();
  const grace = await verifyLicense(key, at(expiry + 3 * DAY));
  show(`${day(expiry + 3 * DAY)}`, `${grace.status}: ${grace.report.warning}`);
  try {
    await verifyLicense(key, at(clock()));
  } catch (e) {
    show(`clock back to ${day()}`, isLicenseError(e) ? e.code : String(e));
  }
  real('the same checks run in the browser, Deno and Bun (`import { verifyLicense } from \'licit\'`); the clock guard file lives in the app\'s data directory.');

  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Next: docs/concepts.md, docs/server.md, docs/cli.md.`);
} catch (e) {
  exitCode = 1;
  console.error('\nThe demo failed:', e);
} finally {
  for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = exitCode;
