/**
 * One way to do each thing: the report range parser shared by `licit report` and
 * `GET /v1/admin/reports` (same refusals, word for word), the one list of audit event kinds, and
 * the one way to open a store from a string (`LICIT_STORE=postgres://…` for the server).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/memory-store.js';
import { ADMIN_KINDS, AUDIT_KINDS, EVENT_KINDS, USER_AUTH_KINDS, auditEvent } from '../src/core/audit-event.js';
import { ADMIN_KINDS as ADMIN_LIST, EVENT_KINDS as ADMIN_EVENT_LIST, adminEvent, parseRangeText } from '../src/core/admin/index.js';
import { AUDIT_KINDS as SEAT_LIST, auditEvent as seatEvent } from '../src/core/seats/index.js';
import { USER_AUTH_KINDS as SERVER_AUTH_KINDS } from '../src/server/index.js';
import { licit } from './helpers/cli.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'admin-secret-token';

describe('one range parser for the CLI and the server', () => {
  // [query string, CLI flags]: the same range given both ways.
  const cases: [string, string[]][] = [
    ['range=year', ['--range', 'year']],
    ['range=custom&from=2027-01-01', ['--range', 'custom', '--from', '2027-01-01']],
    ['range=custom&to=2027-01-01', ['--range', 'custom', '--to', '2027-01-01']],
    ['range=custom&from=2027-02-30&to=2027-03-10', ['--range', 'custom', '--from', '2027-02-30', '--to', '2027-03-10']],
    ['range=custom&from=2027-01-01&to=soon', ['--range', 'custom', '--from', '2027-01-01', '--to', 'soon']],
    ['range=custom&from=2027-01-01&to=2027-02-01&at=2027-01-05', ['--range', 'custom', '--from', '2027-01-01', '--to', '2027-02-01', '--at', '2027-01-05']],
    ['range=day&from=2027-01-01', ['--range', 'day', '--from', '2027-01-01']],
    ['range=month&to=2027-01-01', ['--range', 'month', '--to', '2027-01-01']],
    ['range=week&at=yesterday', ['--range', 'week', '--at', 'yesterday']],
    ['range=day&at=', ['--range', 'day', '--at', '']],
  ];

  it('refuses each bad range with the same ERR_USAGE message from `licit report` and GET /v1/admin/reports', async () => {
    const vendor = makeVendor();
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN });
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const key = await vendor.issue({ licenseId: 'LIC-RANGE', maxActivations: 2 });
    expect((await server.handle(new Request('http://x/v1/admin/licenses', { method: 'POST', headers: admin, body: JSON.stringify({ license: key }) }))).status).toBe(200);
    for (const [qs, flags] of cases) {
      const res = await server.handle(new Request(`http://x/v1/admin/reports?licenseId=LIC-RANGE&${qs}`, { headers: admin }));
      const http = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(res.status, qs).toBe(400);
      // The built CLI, as a user runs it: exit 2 and the same code and message.
      const cli = licit(['report', '--store', '/nonexistent/licit-store', '--license-id', 'LIC-RANGE', ...flags, '--json']);
      expect(cli.code, qs).toBe(2);
      const { code, message } = cli.json().error as { code: string; message: string };
      expect({ code, message }, qs).toEqual({ code: 'ERR_USAGE', message: http.message });
      expect(http.code).toBe('ERR_USAGE');
      // And the parser itself says the same.
      const p = new URLSearchParams(qs);
      const direct = (() => {
        try {
          parseRangeText({ range: p.get('range') ?? undefined, at: p.get('at') ?? undefined, from: p.get('from') ?? undefined, to: p.get('to') ?? undefined });
        } catch (err) {
          return (err as Error).message;
        }
        return undefined;
      })();
      expect(direct, qs).toBe(http.message);
    }
  });

  it('parses good ranges the same way for both', () => {
    expect(parseRangeText({ range: 'day' })).toBe('day');
    expect(parseRangeText({}, { default: 'month' })).toBe('month');
    expect(parseRangeText({ range: 'week', at: '2027-03-03T10:00:00Z' })).toEqual({ kind: 'week', at: new Date('2027-03-03T10:00:00Z') });
    expect(parseRangeText({ range: 'custom', from: '2027-01-01', to: '2027-02-01' })).toEqual({ kind: 'custom', from: new Date('2027-01-01'), to: new Date('2027-02-01') });
  });
});

describe('one list of event kinds, one builder', () => {
  it('EVENT_KINDS holds every kind licit writes, once', () => {
    expect(new Set(EVENT_KINDS).size).toBe(EVENT_KINDS.length);
    expect([...EVENT_KINDS]).toEqual([...AUDIT_KINDS, ...ADMIN_KINDS, ...USER_AUTH_KINDS]);
    for (const k of ['license.registered', 'exchange.refused', 'credits.overspent', 'user.password-set', 'user.locked', 'seat.assigned']) expect(EVENT_KINDS).toContain(k);
    expect(SEAT_LIST).toBe(AUDIT_KINDS);
    expect(ADMIN_LIST).toBe(ADMIN_KINDS);
    expect(ADMIN_EVENT_LIST).toBe(EVENT_KINDS);
    expect(SERVER_AUTH_KINDS).toBe(USER_AUTH_KINDS);
    expect(adminEvent).toBe(auditEvent);
    expect(seatEvent).toBe(auditEvent);
  });
});
