/**
 * The license server's administration endpoints (`/v1/admin/*`, behind the admin token): register
 * licenses, manage devices and users, record top-ups, and read usage, events, reports and the
 * verified audit log. Each route reads its input strictly and calls the vendor logic.
 */
import type { JsonValue } from '../core/store/store.js';
import { activationJson, userJson } from '../core/seats/activation-records.js';
import { readVerifiedLog } from '../core/admin/audit-chain.js';
import { parseRangeText } from '../core/admin/range.js';
import { computeReport } from '../core/admin/report.js';
import { computeVendorReport } from '../core/admin/vendor-report.js';
import { CREDENTIAL_KIND, LicenseUserCredentials } from './auth/credentials.js';
import { acceptablePassword } from './auth/password.js';
import { creditFigures } from './credit-figures.js';
import { KINDS } from './kinds.js';
import { renameLicenseUser } from './rename-user.js';
import { idempotency, int, query, readJson, str, usage, wholeNumber } from './request-body.js';
import type { Vendor } from './vendor.js';

/** A route: the request and its parsed URL in, the fields of the `{ ok: true, … }` answer out. */
export type Route = (req: Request, url: URL) => Promise<Record<string, unknown>>;

/** The admin routes over `vendor`, keyed `METHOD /path`; bodies up to `max` bytes. */
export function adminRoutes(vendor: Vendor, max: number): Record<string, Route> {
  const licenseOf = async (licenseId: string) => (await vendor.license(licenseId)).license;
  return {
      'POST /v1/admin/licenses': async (req) => {
        const license = await vendor.verifyKey(str(await readJson(req, max), 'license'));
        await vendor.register(license, 'admin');
        return { licenseId: license.id, issuedAt: license.issuedAt.toISOString() };
      },
      'GET /v1/admin/devices': async (_req, url) => {
        const license = await licenseOf(query(url, 'licenseId'));
        const acts = vendor.activations(license, 'admin');
        return { licenseId: license.id, usage: await acts.usage(), devices: (await acts.devices()).map(activationJson) };
      },
      'POST /v1/admin/devices/rename': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        if (typeof b.label !== 'string') throw usage('"label" must be text ("" removes the name)');
        const renamed = await vendor.activations(license, 'admin').rename(str(b, 'deviceId'), b.label);
        return { licenseId: license.id, deviceId: b.deviceId, label: renamed[0]?.label ?? null, devices: renamed.map(activationJson) };
      },
      'GET /v1/admin/users': async (_req, url) => {
        const license = await licenseOf(query(url, 'licenseId'));
        const acts = vendor.activations(license, 'admin');
        return { licenseId: license.id, usage: await acts.usage(), users: (await acts.users()).map(userJson) };
      },
      'POST /v1/admin/devices/reset': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        if (b.countTransfer !== undefined && typeof b.countTransfer !== 'boolean') throw usage('"countTransfer" must be true or false');
        const users = await vendor.activations(license, 'admin').resetDevice(str(b, 'deviceId'), { countTransfer: b.countTransfer !== false });
        return { licenseId: license.id, deviceId: b.deviceId, users };
      },
      'POST /v1/admin/users': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        const acts = vendor.activations(license, 'admin');
        const userId = str(b, 'userId');
        const own = int(b, 'maxActivations', true);
        if (b.mustChange !== undefined && typeof b.mustChange !== 'boolean') throw usage('"mustChange" must be true or false');
        const password = str(b, 'password', true);
        if (password !== undefined) acceptablePassword(password); // refused before the user is added: a refusal changes nothing
        let user = await acts.addUser(userId, own === undefined ? {} : { maxActivations: own });
        if (own !== undefined && user.maxActivations !== own) user = await acts.setUserLimit(userId, own);
        // The initial password the license's administrator gives the user (stored only as a scrypt hash).
        if (password !== undefined) await new LicenseUserCredentials(vendor.store, license.id, { now: vendor.now }).setPassword(userId, password, { mustChange: b.mustChange !== false, actor: 'admin' });
        return { licenseId: license.id, user: userJson(user), passwordSet: password !== undefined };
      },
      'POST /v1/admin/users/remove': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        await vendor.activations(license, 'admin').removeUser(str(b, 'userId'));
        return { licenseId: license.id, removed: b.userId };
      },
      'POST /v1/admin/users/reset': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        const devices = await vendor.activations(license, 'admin').resetUser(str(b, 'userId'));
        return { licenseId: license.id, userId: b.userId, devices };
      },
      'POST /v1/admin/users/rename': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        const r = await renameLicenseUser(vendor, license, str(b, 'userId'), str(b, 'newUserId'), 'admin');
        return { licenseId: license.id, userId: r.to, from: r.from, devices: r.devices, seat: r.seat, passwordMoved: r.moved.includes(CREDENTIAL_KIND) };
      },
      'POST /v1/admin/topups': async (req) => {
        const b = await readJson(req, max);
        const license = await licenseOf(str(b, 'licenseId'));
        const idempotencyKey = idempotency(req, b);
        // A signed token carries its own id (stored once already); a key names a top-up to sign.
        if (b.token !== undefined && idempotencyKey !== undefined) throw usage('an idempotency key goes with {licenseId, credits}; a signed token is already deduplicated by its own id');
        const grant = b.token !== undefined ? { token: str(b, 'token') } : { credits: int(b, 'credits') as number };
        const r = await vendor.topUp(license, { ...grant, ...(idempotencyKey === undefined ? {} : { idempotencyKey }), source: b.source === 'auto' ? 'auto' : 'manual', actor: 'admin' });
        return { licenseId: license.id, ...r };
      },
      'GET /v1/admin/usage': async (_req, url) => {
        const license = await licenseOf(query(url, 'licenseId'));
        const acts = vendor.activations(license, 'admin');
        const installs = await vendor.store.read(license.id, (r) => r.list(KINDS.installation));
        const seats: Record<string, JsonValue> = {};
        for (const e of installs) if (e.value.seats !== null && e.value.seats !== undefined) seats[e.key] = e.value.seats;
        return {
          licenseId: license.id,
          activations: await acts.usage(),
          credits: await creditFigures(vendor.store, license),
          seatsLicensed: license.seats,
          seatsReported: seats,
        };
      },
      'GET /v1/admin/events': async (_req, url) => {
        const licenseId = query(url, 'licenseId');
        const after = wholeNumber(url, 'afterSeq');
        const events = await vendor.store.events(licenseId, after === undefined ? {} : { afterSeq: after });
        return { licenseId, events };
      },
    'GET /v1/admin/reports': async (_req, url) => {
      const license = await licenseOf(query(url, 'licenseId'));
      // The one range parser, shared with `licit report`: same input, same refusals.
      const param = (name: string) => url.searchParams.get(name) ?? undefined;
      const spec = parseRangeText({ range: param('range'), at: param('at'), from: param('from'), to: param('to') }, { default: 'month' });
      return { report: await computeReport(vendor.store, license.id, spec, { now: vendor.now, licensed: license.seats, maxActivations: license.maxActivations, maxUsers: license.maxUsers, verify: url.searchParams.get('verify') === 'true', timeZone: param('timeZone') }) };
    },
    // Every license together, per customer, edition or license (core/admin/vendor-report.ts).
    'GET /v1/admin/reports/vendor': async (_req, url) => {
      const param = (name: string) => url.searchParams.get(name) ?? undefined;
      const spec = parseRangeText({ range: param('range'), at: param('at'), from: param('from'), to: param('to') }, { default: 'month' });
      const by = param('by') ?? 'customer';
      if (by !== 'customer' && by !== 'edition' && by !== 'license') throw usage('"by" is customer, edition or license');
      return { report: await computeVendorReport(vendor.store, spec, { by, timeZone: param('timeZone'), now: vendor.now, verify: param('verify') === 'true' }) };
    },
    'GET /v1/admin/log': async (_req, url) => {
      const log = await readVerifiedLog(vendor.store, query(url, 'licenseId'));
      return { licenseId: log.licenseId, head: log.head, events: log.events };
    },
  };
}
