/**
 * The OpenAPI 3.1 description of the license server, served at `GET /v1/openapi.json`. Every
 * route the server answers is here with the statuses it can answer; test/83 checks both ways
 * (no route undocumented, no documented route missing, every status a refusal maps to listed).
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const error = { $ref: '#/components/schemas/Error' };
const ok = (props: Record<string, Json> = {}): Json => ({ type: 'object', required: ['ok'], properties: { ok: { const: true }, ...props } });
const response = (description: string, schema: Json): Json => ({ description, content: { 'application/json': { schema } } });

/** Statuses every answer may carry beyond its own (limits, a store that is down, a bug). */
const COMMON: Record<string, Json> = {
  '429': response('rate limited (`ERR_RATE_LIMITED`, `Retry-After` header)', error),
  '500': response('the store holds something unreadable (`ERR_STORE_CORRUPT`) or a bug (`ERR_INTERNAL`)', error),
  '503': response('the store cannot be reached (`ERR_STORE_UNAVAILABLE`, `ERR_STORE_POISONED`); retry later', error),
};

const BODY: Record<string, Json> = {
  '400': response('a malformed body or code (`ERR_USAGE`, `ERR_KEY_*`, `ERR_EXCHANGE_*`, `ERR_FINGERPRINT_*`)', error),
  '413': response('the body is larger than `maxBodyBytes` (`ERR_BODY_TOO_LARGE`)', error),
};

const EXCHANGE_REFUSALS: Record<string, Json> = {
  '401': response('the license requires a user sign-in (`ERR_USER_AUTH_REQUIRED`, `ERR_USER_AUTH_FAILED`)', error),
  '403': response('refused by policy: a suspended or revoked license, a container, a supplied machine id not allowed, an expired license', error),
  '404': response('the installation is not activated, or the device is unknown (`ERR_ACTIVATION_NOT_FOUND`)', error),
  '409': response('a limit or a conflict (`ERR_ACTIVATIONS_EXHAUSTED`, `ERR_TRANSFERS_EXHAUSTED`, `ERR_EXCHANGE_REPLAYED`, `ERR_IDEMPOTENCY_CONFLICT`)', error),
};

const ADMIN_REFUSALS: Record<string, Json> = {
  '401': response('no or a wrong admin token (`ERR_UNAUTHORIZED`)', error),
  '403': response('refused by the license (an expired license, a limit of its kind)', error),
  '404': response('an unknown license, user or device (`ERR_LICENSE_NOT_REGISTERED`, `ERR_USER_NOT_FOUND`, `ERR_ACTIVATION_NOT_FOUND`)', error),
  '409': response('a limit or a conflict (`ERR_*_EXHAUSTED`, `ERR_LICENSE_SUPERSEDED`, `ERR_LICENSE_STATE`, `ERR_IDEMPOTENCY_CONFLICT`)', error),
};

/** What a re-issue answers (server/reissue.ts's `Reissued`). */
const REISSUED: Record<string, Json> = {
  licenseId: { type: 'string' },
  key: { type: 'string', description: 'the new license key' },
  issue: { type: 'integer' },
  changes: { type: 'object' },
  seats: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' } } } },
  reissued: { type: 'boolean', description: 'false: the idempotency key named an earlier re-issue, returned again' },
};

const exchangeRequest: Json = {
  required: true,
  content: { 'application/json': { schema: { type: 'object', required: ['request'], properties: { request: { type: 'string', description: 'a request code (`LICITQ1-…`) made by `createRequest`' }, credentials: { type: 'object', description: 'a license user sign-in, when the license asks for one' } } } } },
};

const jsonBody = (required: string[], properties: Record<string, Json>): Json => ({ required: true, content: { 'application/json': { schema: { type: 'object', required, properties } } } });
const q = (name: string, required = true, description = ''): Json => ({ name, in: 'query', required, schema: { type: 'string' }, ...(description === '' ? {} : { description }) });
const admin = { security: [{ adminToken: [] }] as Json };

function exchange(summary: string): Json {
  return { post: { summary, tags: ['exchange'], requestBody: exchangeRequest, responses: { '200': response('the answer: a signed lease (`lease`), or what was recorded', ok({ lease: { type: 'string' }, licenseId: { type: 'string' }, verifiedUntil: { type: 'string', format: 'date-time' } })), ...BODY, ...EXCHANGE_REFUSALS, ...COMMON } } };
}

function adminOp(method: 'get' | 'post', summary: string, extra: { parameters?: Json[]; requestBody?: Json; result?: Record<string, Json> } = {}): Json {
  return {
    [method]: {
      summary,
      tags: ['admin'],
      ...admin,
      ...(extra.parameters === undefined ? {} : { parameters: extra.parameters }),
      ...(extra.requestBody === undefined ? {} : { requestBody: extra.requestBody }),
      responses: { '200': response('done', ok(extra.result ?? {})), ...BODY, ...ADMIN_REFUSALS, ...COMMON },
    },
  };
}

const probe = (summary: string, body: Json, extra: Record<string, Json> = {}): Json => ({
  get: { summary, tags: ['operations'], responses: { '200': response('up', body), ...extra } },
  head: { summary: `${summary} (no body)`, tags: ['operations'], responses: { '200': { description: 'up' }, ...extra } },
});

/** The document. */
export function openApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'licit license server', version, description: 'Activation, renewal, deactivation, usage and top-ups for installations (signed request codes in, signed leases out), and administration behind a bearer token. Every refusal is `{ ok: false, error: { code, message, details } }` with a stable licit error code (docs/errors.md).' },
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'the admin token the server was started with (`adminToken`, `$LICIT_ADMIN_TOKEN`)' } },
      schemas: {
        Error: { type: 'object', required: ['ok', 'error'], properties: { ok: { const: false }, error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', pattern: '^ERR_[A-Z_]+$' }, message: { type: 'string' }, details: { type: 'object' } } } } },
      },
    },
    paths: {
      '/v1/health': probe('liveness: the process answers (never touches the store, never rate-limited)', ok({ time: { type: 'string', format: 'date-time' }, kid: { type: 'string' } })),
      '/v1/ready': probe('readiness: the store answers a read', ok({ ready: { const: true }, storeMs: { type: 'number' } }), { '503': COMMON['503'] as Json }),
      '/v1/openapi.json': { get: { summary: 'this document', tags: ['operations'], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/v1/activate': exchange('activate an installation (or renew an activated one)'),
      '/v1/renew': exchange('renew the lease of an activated installation'),
      '/v1/deactivate': exchange('deactivate an installation, freeing its activation'),
      '/v1/usage': exchange('report usage (seats in use, credits spent)'),
      '/v1/topup': exchange('ask for credits under the server\'s top-up policy'),
      '/v1/trial': {
        post: {
          summary: 'a trial license for this machine, once per machine and product (a request code for trial:<product>, no license key)',
          tags: ['exchange'],
          requestBody: exchangeRequest,
          responses: {
            '200': response('the trial license key', ok({ licenseKey: { type: 'string' }, licenseId: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' }, product: { type: 'string' } })),
            ...BODY,
            '404': response('no trial of that product (`ERR_TRIAL_UNAVAILABLE`)', error),
            '409': response('this machine had the trial (`ERR_TRIAL_USED`)', error),
            ...COMMON,
          },
        },
      },
      '/v1/admin/licenses': {
        ...(adminOp('post', 'register a license key (a newer issue replaces an older one)', { requestBody: jsonBody(['license'], { license: { type: 'string' } }), result: { licenseId: { type: 'string' }, issuedAt: { type: 'string' } } }) as Record<string, Json>),
        ...(adminOp('get', 'find licenses in the registry', { parameters: [q('licenseId', false), q('customer', false), q('state', false, 'active, suspended or revoked'), q('expiresBefore', false), q('expiresAfter', false)], result: { licenses: { type: 'array' } } }) as Record<string, Json>),
      },
      '/v1/admin/license': adminOp('get', 'one license with every key signed for it', { parameters: [q('licenseId')], result: { entry: { type: 'object' }, issues: { type: 'array' } } }),
      '/v1/admin/licenses/suspend': adminOp('post', 'suspend a license (renewals and activations refused until reinstated)', { requestBody: jsonBody(['licenseId'], { licenseId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/licenses/revoke': adminOp('post', 'revoke a license (final)', { requestBody: jsonBody(['licenseId'], { licenseId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/devices/suspend': adminOp('post', 'suspend a device (renewals, activations, top-ups refused until reinstated)', { requestBody: jsonBody(['licenseId', 'deviceId'], { licenseId: { type: 'string' }, deviceId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/devices/revoke': adminOp('post', 'revoke a device: its activation is freed and its machine cannot activate the license again', { requestBody: jsonBody(['licenseId', 'deviceId'], { licenseId: { type: 'string' }, deviceId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/devices/reinstate': adminOp('post', 'reinstate a suspended device', { requestBody: jsonBody(['licenseId', 'deviceId'], { licenseId: { type: 'string' }, deviceId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/users/suspend': adminOp('post', "suspend a license user (that user's devices are refused until reinstated)", { requestBody: jsonBody(['licenseId', 'userId'], { licenseId: { type: 'string' }, userId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/users/revoke': adminOp('post', "revoke a license user for good (the user removed, their devices deactivated, the id refused from then on)", { requestBody: jsonBody(['licenseId', 'userId'], { licenseId: { type: 'string' }, userId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/users/reinstate': adminOp('post', 'reinstate a suspended license user', { requestBody: jsonBody(['licenseId', 'userId'], { licenseId: { type: 'string' }, userId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/licenses/reissue': adminOp('post', "re-issue a license: a new key signed from the newest one with the changes given (absent: kept; null: removed), recorded with what it changed; seat counts changed are seats.changed events with source; installations get the key with their next lease. Idempotent by Idempotency-Key", {
        requestBody: jsonBody(['licenseId'], {
          licenseId: { type: 'string' },
          expiresAt: { type: ['string', 'null'], description: 'a date (through the end of that UTC day) or an ISO 8601 time; null: never expires' },
          maintenanceExpiresAt: { type: ['string', 'null'] },
          edition: { type: ['string', 'null'] },
          seats: { type: 'object', additionalProperties: { type: 'integer' }, description: 'the new count per user type; types not named are kept' },
          addFeatures: { type: 'array', items: { type: 'string' } },
          removeFeatures: { type: 'array', items: { type: 'string' } },
          maxActivations: { type: ['integer', 'null'] },
          maxUsers: { type: ['integer', 'null'] },
          maxUserActivations: { type: ['integer', 'null'] },
          maxTransfers: { type: ['integer', 'null'] },
          graceDays: { type: 'integer' },
          credits: { type: ['integer', 'null'] },
          carriedCredits: { type: 'integer' },
          source: { enum: ['manual', 'auto'] },
          issuedBy: { type: 'string' },
          rotate: { type: 'boolean' },
          idempotencyKey: { type: 'string' },
        }),
        result: REISSUED,
      }),
      '/v1/admin/licenses/seats': adminOp('post', 'add seats of one user type (a re-issue raising its count; source auto for an automatic top-up); ERR_UNKNOWN_USER_TYPE (403) for a type the license does not have. Idempotent by Idempotency-Key: a retry adds nothing', {
        requestBody: jsonBody(['licenseId', 'type', 'add'], { licenseId: { type: 'string' }, type: { type: 'string' }, add: { type: 'integer', minimum: 1 }, source: { enum: ['manual', 'auto'] }, issuedBy: { type: 'string' }, idempotencyKey: { type: 'string' } }),
        result: { ...REISSUED, type: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' } },
      }),
      '/v1/admin/licenses/reinstate': adminOp('post', 'reinstate a suspended license', { requestBody: jsonBody(['licenseId'], { licenseId: { type: 'string' }, reason: { type: 'string' } }) }),
      '/v1/admin/devices': adminOp('get', 'the devices activated for a license', { parameters: [q('licenseId')] }),
      '/v1/admin/devices/reset': adminOp('post', 'reset (deactivate) a device', { requestBody: jsonBody(['licenseId', 'deviceId'], { licenseId: { type: 'string' }, deviceId: { type: 'string' }, countTransfer: { type: 'boolean' } }) }),
      '/v1/admin/devices/rename': adminOp('post', 'label a device', { requestBody: jsonBody(['licenseId', 'deviceId', 'label'], { licenseId: { type: 'string' }, deviceId: { type: 'string' }, label: { type: 'string' } }) }),
      '/v1/admin/users': {
        ...(adminOp('get', 'the license users', { parameters: [q('licenseId')] }) as Record<string, Json>),
        ...(adminOp('post', 'add a license user (optionally with an initial password and an own device limit)', { requestBody: jsonBody(['licenseId', 'userId'], { licenseId: { type: 'string' }, userId: { type: 'string' }, maxActivations: { type: 'integer' }, password: { type: 'string' }, mustChange: { type: 'boolean' } }) }) as Record<string, Json>),
      },
      '/v1/admin/users/remove': adminOp('post', 'remove a license user', { requestBody: jsonBody(['licenseId', 'userId'], { licenseId: { type: 'string' }, userId: { type: 'string' } }) }),
      '/v1/admin/users/rename': adminOp('post', "give a license user a new id (its e-mail changed): its devices, seat, device limit and password move with it; ERR_USER_EXISTS (409) when the new id is taken", { requestBody: jsonBody(['licenseId', 'userId', 'newUserId'], { licenseId: { type: 'string' }, userId: { type: 'string' }, newUserId: { type: 'string' } }) }),
      '/v1/admin/users/reset': adminOp('post', "reset a user's activations", { requestBody: jsonBody(['licenseId', 'userId'], { licenseId: { type: 'string' }, userId: { type: 'string' } }) }),
      '/v1/admin/topups': adminOp('post', 'add credits (signed here, or a signed token)', { requestBody: jsonBody(['licenseId'], { licenseId: { type: 'string' }, credits: { type: 'integer' }, token: { type: 'string' }, idempotencyKey: { type: 'string' } }) }),
      '/v1/admin/usage': adminOp('get', 'activations, credits and seats of a license', { parameters: [q('licenseId')] }),
      '/v1/admin/events': adminOp('get', 'the raw audit events of a license', { parameters: [q('licenseId'), q('afterSeq', false)] }),
      '/v1/admin/reports': adminOp('get', 'a usage report over a range', { parameters: [q('licenseId'), q('range', false, 'day, week, month or custom'), q('at', false), q('from', false), q('to', false), q('verify', false), q('timeZone', false, 'IANA zone of the calendar, default UTC')] }),
      '/v1/admin/reports/vendor': adminOp('get', 'every license together, summed per customer, edition or license', { parameters: [q('by', false, 'customer (default), edition or license'), q('range', false, 'day, week, month or custom'), q('at', false), q('from', false), q('to', false), q('timeZone', false, 'IANA zone of the calendar, default UTC'), q('verify', false)] }),
      '/v1/admin/log': adminOp('get', 'the hash-chained audit log, verified', { parameters: [q('licenseId')] }),
      '/v1/admin/portal/companies': {
        ...(adminOp('get', "the licensing portal's customer companies, with their administrator accounts", { result: { companies: { type: 'array' } } }) as Record<string, Json>),
        ...(adminOp('post', 'create a portal company: its code, name, and which licenses are its own (by customer claim or license id)', { requestBody: jsonBody(['code', 'name'], { code: { type: 'string' }, name: { type: 'string' }, customers: { type: 'array', items: { type: 'string' } }, licenseIds: { type: 'array', items: { type: 'string' } } }), result: { company: { type: 'object' } } }) as Record<string, Json>),
      },
      '/v1/admin/portal/companies/licenses': adminOp('post', "add or remove a portal company's licenses", { requestBody: jsonBody(['code'], { code: { type: 'string' }, addCustomers: { type: 'array', items: { type: 'string' } }, removeCustomers: { type: 'array', items: { type: 'string' } }, addLicenseIds: { type: 'array', items: { type: 'string' } }, removeLicenseIds: { type: 'array', items: { type: 'string' } } }), result: { company: { type: 'object' } } }),
      '/v1/admin/portal/accounts/password': adminOp('post', "a new initial password for a portal administrator account (once in the answer; changed at its next sign-in; clears a lockout)", { requestBody: jsonBody(['code', 'email'], { code: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } }), result: { email: { type: 'string' }, initialPassword: { type: 'string' }, mustChange: { const: true } } }),
      '/v1/admin/portal/accounts/remove': adminOp('post', 'remove a portal administrator account (its sessions end at their next request)', { requestBody: jsonBody(['code', 'email'], { code: { type: 'string' }, email: { type: 'string' } }), result: { removed: { const: true } } }),
      '/v1/admin/portal/accounts': adminOp('post', "add an administrator account to a portal company; the answer holds its initial password (once), which must be changed at first sign-in", { requestBody: jsonBody(['code', 'email'], { code: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } }), result: { account: { type: 'object' }, initialPassword: { type: 'string' }, mustChange: { const: true } } }),
      '/v1/admin/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition format); 400 when the server runs without metrics',
          tags: ['operations'],
          ...admin,
          responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, '400': BODY['400'] as Json, ...ADMIN_REFUSALS, ...COMMON },
        },
      },
    },
  };
}
