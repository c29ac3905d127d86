/**
 * What every flag means, with an example: `licit VERB --help` and `licit help VERB` print the
 * verb's usage and then one line per flag it accepts (taken from the flags the verb parses, so a
 * new flag without a line here shows up in test/50 at once).
 */

/** A flag's description and an example of it, as typed. */
type FlagHelp = readonly [description: string, example: string];

const KEY = 'a license key: the text, @FILE, a file path, or - for standard input';

/** Meanings shared by every verb that takes the flag. */
const FLAGS: Readonly<Record<string, FlagHelp>> = {
  json: ['print one JSON object ({"ok":true,...} or {"ok":false,"error":{...}}) instead of text', '--json'],
  help: ['print this help and exit 0', '--help'],
  out: ['directory to write vendor.key (mode 0600) and vendor.pub into; never overwrites', '--out ./keys'],
  'signing-key': ["the vendor's private key file (vendor.key from licit keygen)", '--signing-key keys/vendor.key'],
  'public-key': ["the vendor's public key file (vendor.pub); repeat it to trust several keys during a rotation", '--public-key keys/vendor.pub'],
  license: [KEY, '--license @customer.lic'],
  'license-id': ['the license id (LIC-… as printed by licit issue)', '--license-id LIC-7'],
  customer: ['customer name recorded in the key', '--customer "ACME GmbH"'],
  issuer: ['vendor name recorded in the key', '--issuer "Example Software"'],
  edition: ['edition name', '--edition pro'],
  feature: ['a licensed feature; repeat for several', '--feature reports'],
  'maintenance-feature': ['a feature (also given with --feature) usable only while maintenance is active', '--maintenance-feature desktop-app'],
  seats: ['named seats per user type, TYPE=N; repeat per type', '--seats basic=10'],
  'max-users': ['most license users', '--max-users 12'],
  'max-activations': ['most device activations, all users together', '--max-activations 20'],
  'max-user-activations': ['most device activations per license user', '--max-user-activations 3'],
  'max-transfers': ['most activation transfers (device moves and resets) over the license life', '--max-transfers 5'],
  'self-resets': ['devices the customer may free themselves (a lost machine) per period, without the vendor', '--self-resets 2'],
  'self-reset-days': ['the period of --self-resets, in days (default 30)', '--self-reset-days 90'],
  'not-before': ['start of validity: a date alone is the start of that day, UTC; a time needs its zone', '--not-before 2027-01-01'],
  expires: ['license expiry: a date alone runs through the end of that day, UTC (the key holds 23:59:59Z); a time needs its zone (Z or +01:00); leave out for a perpetual license', '--expires 2027-12-31'],
  'maintenance-expires': ['end of maintenance, as --expires: releases dated after it are refused', '--maintenance-expires 2027-06-30'],
  'grace-days': ['days the license keeps working after expiry, with a warning', '--grace-days 14'],
  'lease-days': ['days an online or offline verification lasts before it must be renewed (default 14)', '--lease-days 30'],
  credits: ['click-charge credits', '--credits 5000'],
  carried: ['credits already consumed that carry over (re-issue after a hardware change)', '--carried 120'],
  fingerprint: ['node-lock the license to one machine: the string `licit fingerprint` printed on it', '--fingerprint fp1:…'],
  'allow-weak-fingerprint': ['sign a node-lock to a weak fingerprint anyway', '--allow-weak-fingerprint'],
  'allow-machine-id': ['let installations activate with an operator-supplied machine id (containers)', '--allow-machine-id'],
  'user-auth': ['how license users sign in on a new activation: none, password, id-token or password-or-id-token', '--user-auth password'],
  meta: ['free vendor metadata, K=V; repeat for several', '--meta order=PO-1'],
  now: ['evaluate at this time instead of now: a date alone is the start of that day, UTC; a time needs its zone', '--now 2027-12-31T12:00Z'],
  'release-date': ["your application's release date, checked against maintenance expiry", '--release-date 2027-05-01'],
  salt: ["the application's fingerprint salt (default: derived from the first --public-key)", '--salt com.example.app'],
  'machine-id': ['an operator-assigned machine id instead of the hardware fingerprint (containers)', '--machine-id node-17'],
  dir: ['directory of the local state (installation or credit ledger)', '--dir /var/lib/myapp/licit'],
  'mirror-dir': ["directory of the credit ledger's mirror copy", '--mirror-dir /var/lib/myapp/.licit-mirror'],
  app: ['application name (keeps ledgers and installations of several applications apart)', '--app myapp'],
  recover: ['open a ledger whose copies disagree by repairing from the good one', '--recover'],
  repeat: ['consume N credits this many times, one ack line each', '--repeat 10'],
  reason: ['why credits were consumed, recorded in the history', '--reason "pdf export"'],
  'secret-file': ["file holding your application's secret (else $LICIT_SECRET); sealed local state needs it", '--secret-file /etc/myapp/secret'],
  'idempotency-key': ['charge once per key: a retry with the same key charges nothing', '--idempotency-key job-42'],
  explain: ['compare a stored fingerprint with this machine and say which components changed', '--explain fp1:…'],
  fallback: ['read the machine with the JavaScript reader, not the native addon', '--fallback'],
  adapters: ['list every network adapter and why it was used or left out', '--adapters'],
  store: ['the seat and activation store: a FileStore directory or a postgres:// URL', '--store /var/lib/licit-store'],
  schema: ['PostgreSQL schema of the store (default licit)', '--schema licit'],
  actor: ['who acts, recorded in the audit log (default cli)', '--actor alice@vendor.example'],
  admin: ['the user is an administrator: over the limit, admin-only instead of denied', '--admin'],
  'dry-run': ['show what would change and write nothing', '--dry-run'],
  user: ['the license user this installation belongs to', '--user ann@example.com'],
  'app-version': ['application version, sent to the vendor', '--app-version 4.2.0'],
  'seat-usage': ['seats in use per type on this installation, TYPE=N; repeat per type', '--seat-usage basic=3'],
  deactivate: ['ask to release this device instead of activating it', '--deactivate'],
  port: ['TCP port to listen on (0: any free port)', '--port 8443'],
  host: ['address to listen on (default 127.0.0.1)', '--host 0.0.0.0'],
  'admin-token': ['bearer token of the admin API (prefer $LICIT_ADMIN_TOKEN: flags show in ps)', '--admin-token "$TOKEN"'],
  'container-policy': ['installations in containers: allow, refuse, or machine-id (must supply an id)', '--container-policy machine-id'],
  'weak-identity': ['machines identified only by parts others share (CPU model, default MAC): allow, or refuse (ERR_FINGERPRINT_WEAK)', '--weak-identity refuse'],
  'trust-proxy': ['behind one reverse proxy: the client is its X-Forwarded-For', '--trust-proxy'],
  'max-connections': ['most open connections (default 1000)', '--max-connections 200'],
  'no-rate-limit': ['turn the rate limits off (benchmarks, a gateway that limits already)', '--no-rate-limit'],
  'no-access-log': ['no access log line per request on standard error', '--no-access-log'],
  anchor: ['the head SEQ:HASH a previous licit log printed, to detect a rewritten log', '--anchor 12:3f9a…'],
  range: ['report period: day, week, month or custom', '--range month'],
  at: ['a moment inside the day, week or month (default now); a date alone is the start of that day, UTC', '--at 2027-03-15'],
  from: ['start of a custom range, inclusive', '--from 2027-01-01'],
  to: ['end of a custom range, exclusive (--from 2027-01-01 --to 2027-02-01 is January)', '--to 2027-02-01'],
  html: ['also write a self-contained HTML page with charts to FILE', '--html report.html'],
  verify: ['verify the audit hash chain before reporting', '--verify'],
  rotate: ['record a key signed by a new vendor key for a license signed by an older one (a key rotation: applications must trust the new public key first)', '--rotate'],
  all: ['report every license the store holds, summed per group (see --by)', '--all'],
  by: ['group an --all report per customer, edition (license type) or license', '--by edition'],
  'time-zone': ["the report's calendar: days, weeks and months start at local midnight in this IANA zone (default UTC)", '--time-zone Europe/Berlin'],
  state: ['only licenses in this state: active, suspended or revoked', '--state suspended'],
  'expires-before': ['only licenses that expire before this date (perpetual ones never match)', '--expires-before 2027-07-01'],
  'expires-after': ['only licenses that expire at or after this date, or never', '--expires-after 2027-01-01'],
  key: ['also print the license key text (show: the newest key)', '--key'],
  'issued-by': ['who signs, recorded in the license registry (default the OS user)', '--issued-by alice@vendor.example'],
  'remove-feature': ['a feature the re-issued key no longer grants; repeat for several', '--remove-feature beta-export'],
  'json-log': ['the access log as one JSON object per line (pino field names: level, time, msg; request id, route, status, code, ms, license id, client)', '--json-log'],
  metrics: ['Prometheus metrics at GET /v1/admin/metrics behind the admin token (needs the prom-client package)', '--metrics'],
  webhook: ['deliver audit events to this URL (https, or http to localhost), signed; repeat for several', '--webhook https://crm.example.com/licit'],
  'webhook-secret-file': ['file holding the webhook signing secret (else $LICIT_WEBHOOK_SECRET; at least 16 bytes)', '--webhook-secret-file /etc/licit/webhook-secret'],
  'webhook-kinds': ['event kinds to deliver, comma-separated, or * for all (default: activations, deactivations, resets, transfers, reinstalls, alerts, top-ups, refusals, overspending, registrations, licenses, devices and users suspended, revoked or reinstated, and users renamed)', '--webhook-kinds device.activated,alert.raised'],
  server: ["a license server's URL, for its admin API (with --license-id and the admin token)", '--server https://licenses.example.com'],
  goodwill: ["a vendor's goodwill reset: counts no transfer", '--goodwill'],
  'token-id': ['the top-up token id (default random); applying a token twice adds once', '--token-id TOP-2027-001'],
};

/** Where a verb's flag means something else than {@link FLAGS} says. */
const BY_VERB: Readonly<Record<string, Readonly<Record<string, FlagHelp>>>> = {
  topup: { credits: ['credits the token adds (1 to 4294967295)', '--credits 1000'], 'license-id': ['the license the credits are for', '--license-id LIC-7'] },
  request: { fingerprint: ['supply the machine identity as a fingerprint string instead of reading this machine', '--fingerprint fp1:…'] },
  apply: { fingerprint: ['supply the machine identity as a fingerprint string instead of reading this machine', '--fingerprint fp1:…'] },
  fingerprint: { 'public-key': ["derive the salt from the vendor's public key, as Licensing does when the application sets none", '--public-key keys/vendor.pub'] },
  users: {
    'max-activations': ["the user's own device limit (default: the license's --max-user-activations)", '--max-activations 2'],
    reason: ["why the user is suspended, revoked or reinstated; recorded in the audit log, and shown in the refusal the user's installations get", '--reason "left the company"'],
  },
  devices: { reason: ["why the device is suspended, revoked or reinstated; recorded in the audit log, and a suspension's or revocation's reason is shown in the refusal its installation gets", '--reason "stolen laptop"'] },
  report: { license: [`${KEY}; gives the report its licensed limits`, '--license @customer.lic'] },
  licenses: {
    reason: ['why the license is suspended, revoked or reinstated; shown to the customer in the refusal', '--reason "refund 2027-04"'],
    customer: ['only licenses whose customer contains this text (any case)', '--customer acme'],
    feature: ['a feature the re-issued key adds; repeat for several', '--feature reports'],
    seats: ['seats per user type the re-issued key grants, TYPE=N (others kept); repeat per type', '--seats basic=20'],
    expires: ['new license expiry for the re-issued key, as licit issue reads it', '--expires 2028-12-31'],
    actor: ['who acts, recorded in the audit log (default the OS user)', '--actor alice@vendor.example'],
  },
  portal: {
    name: ["the company's name, shown in the portal", '--name "Acme Corp"'],
    customer: ["a license's customer claim that makes the license the company's; repeat for several", '--customer "Acme Corp"'],
    'license-id': ['a license that is the company\'s whatever its customer claim; repeat for several', '--license-id LIC-7'],
    email: ["the administrator's e-mail address, which it signs in with", '--email it@acme.example'],
    'password-file': ['a file holding the initial password (default: one is made and printed once)', '--password-file initial.txt'],
  },
  issue: { store: ["record the key in the vendor's license registry in this store (the one licit serve uses)", '--store /var/lib/licit'] },
  settings: {
    'json-settings': ['the settings to set, as JSON (each part given replaces that part; see the usage above)', '--json-settings \'{"credits":{"notify":{"remainingAtMost":300}}}\''],
    file: ['a file holding the settings to set, as JSON', '--file settings.json'],
  },
};

/** How a flag is written in the help: `--name VALUE` for a flag that takes one. */
function flagForm(name: string, type: 'string' | 'boolean'): string {
  return type === 'string' ? `--${name} VALUE` : `--${name}`;
}

/** One entry per flag a verb parses: name, description and example (`undefined` when none is written yet). */
export function flagHelp(verb: string | undefined, options: Readonly<Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>): { flag: string; description: string | undefined; example: string | undefined }[] {
  const all: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { ...options, json: { type: 'boolean' }, help: { type: 'boolean' } };
  return Object.entries(all).map(([name, o]) => {
    const h = (verb === undefined ? undefined : BY_VERB[verb]?.[name]) ?? FLAGS[name];
    return { flag: flagForm(name, o.type) + (o.multiple === true ? ' (repeatable)' : ''), description: h?.[0], example: h?.[1] };
  });
}

/** The help text: usage, then each flag with its meaning and an example. */
export function helpText(usage: string, flags: ReturnType<typeof flagHelp>): string {
  const width = Math.min(34, Math.max(...flags.map((f) => f.flag.length)));
  const lines = flags.map((f) => `  ${f.flag.padEnd(width)}  ${f.description ?? ''}\n  ${''.padEnd(width)}  e.g. ${f.example ?? ''}`);
  return `Usage: ${usage}\n\nFlags:\n${lines.join('\n')}`;
}

/** Levenshtein distance, small inputs only (verb and flag names). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to a mistyped `word`, when it is close enough to be what was meant. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  // One edit for short words, up to a third of the word for longer ones; a prefix counts too (--lic for --license).
  const prefix = candidates.find((c) => word.length >= 3 && c.startsWith(word));
  if (bestD <= Math.max(1, Math.floor(word.length / 3))) return best;
  return prefix;
}
