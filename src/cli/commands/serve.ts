/**
 * `licit serve` (vendor): run the license server on `node:http` until SIGINT/SIGTERM. The admin
 * token comes from `--admin-token` or `$LICIT_ADMIN_TOKEN` (prefer the variable: flags show in `ps`).
 * Rate limits, timeouts and the connection cap are the server's defaults; `--trust-proxy` behind a
 * reverse proxy, `--max-connections N`, `--no-rate-limit` (benchmarks, a gateway that limits
 * already) and `--no-access-log` change them.
 */
import { LicenseError, loadEventKinds } from '../../cli-internals.js';
import { openStore } from '../store-arg.js';
import { integer, parseFlags, required, type Verb } from '../context.js';
import type { EventKind } from '../../admin.js';
import type { WebhookOptions } from '../../server/index.js';
import { readTextFile } from '../files.js';

const USAGE =
  'licit serve --signing-key FILE --store DIR|postgres://... --port N [--host ADDR] [--schema NAME] [--admin-token TOKEN] [--container-policy allow|refuse|machine-id] [--weak-identity allow|refuse] [--trust-proxy] [--max-connections N] [--no-rate-limit] [--no-access-log | --json-log] [--metrics] [--webhook URL]... [--webhook-secret-file FILE] [--webhook-kinds KIND,...] [--json]';


/** `licit serve`: print one line when listening, then serve until stopped. */
export const run: Verb = async (argv, ctx) => {
  const s = { type: 'string' } as const;
  const b = { type: 'boolean' } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    { 'signing-key': s, store: s, port: s, host: s, schema: s, 'admin-token': s, 'container-policy': s, 'weak-identity': s, 'trust-proxy': b, 'max-connections': s, 'no-rate-limit': b, 'no-access-log': b, 'json-log': b, metrics: b, webhook: { type: 'string', multiple: true }, 'webhook-secret-file': s, 'webhook-kinds': s },
    USAGE,
  );
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const signingKey = readTextFile(required(v['signing-key'], '--signing-key', USAGE), '--signing-key');
  const port = integer(required(v.port, '--port', USAGE), '--port') as number;
  if (port > 65535) throw new LicenseError('ERR_USAGE', '--port must be 0 to 65535');
  const policy = v['container-policy'] ?? 'allow';
  if (policy !== 'allow' && policy !== 'refuse' && policy !== 'machine-id') throw new LicenseError('ERR_USAGE', `--container-policy must be allow, refuse or machine-id\nUsage: ${USAGE}`);
  const weakIdentity = v['weak-identity'] ?? 'allow';
  if (weakIdentity !== 'allow' && weakIdentity !== 'refuse') throw new LicenseError('ERR_USAGE', `--weak-identity must be allow or refuse\nUsage: ${USAGE}`);
  const maxConnections = integer(v['max-connections'], '--max-connections');
  if (maxConnections === 0) throw new LicenseError('ERR_USAGE', `--max-connections must be at least 1\nUsage: ${USAGE}`);
  const webhooks = await webhookOptions(v.webhook, v['webhook-secret-file'], v['webhook-kinds']);
  const storeSpec = required(v.store, '--store', USAGE);
  const store = await openStore(storeSpec, { schema: v.schema, applicationName: 'licit-server' });
  const { createLicenseServer } = await import('../../server/index.js');
  const server = createLicenseServer({
    signingKey,
    store,
    adminToken: v['admin-token'] ?? process.env.LICIT_ADMIN_TOKEN,
    containerPolicy: policy,
    weakIdentity,
    trustProxy: v['trust-proxy'] === true,
    maxConnections,
    ...(v['no-rate-limit'] === true ? { rateLimit: false as const } : {}),
    accessLog: v['no-access-log'] === true ? false : v['json-log'] === true ? 'json' : true,
    metrics: v.metrics === true,
    ...(webhooks === undefined ? {} : { webhooks }),
  });
  let bound: Awaited<ReturnType<typeof server.listen>>;
  try {
    bound = await server.listen(port, v.host ?? '127.0.0.1');
  } catch (e) {
    await store.close(); // a PostgreSQL pool left open would keep the process from exiting
    if (e instanceof LicenseError && e.code === 'ERR_USAGE') throw new LicenseError('ERR_USAGE', `--host: ${e.message}\nUsage: ${USAGE}`, e.details);
    if (e instanceof LicenseError && e.code === 'ERR_IO') throw new LicenseError('ERR_IO', `${e.message} (--port)`, e.details);
    throw e;
  }
  ctx.line({ listening: true, host: bound.host, port: bound.port, kid: server.vendor.signer.kid }, `licit server listening on http://${bound.host}:${bound.port} (signing key ${server.vendor.signer.kid})`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await bound.close();
  await store.close();
  return undefined;
};

/** `--webhook URL`... with the secret from `--webhook-secret-file` or `$LICIT_WEBHOOK_SECRET` (never a flag: flags show in `ps`). */
async function webhookOptions(urls: string[] | undefined, secretFile: string | undefined, kinds: string | undefined): Promise<WebhookOptions | undefined> {
  if (urls === undefined || urls.length === 0) {
    if (secretFile !== undefined || kinds !== undefined) throw new LicenseError('ERR_USAGE', `--webhook-secret-file and --webhook-kinds go with --webhook URL\nUsage: ${USAGE}`);
    return undefined;
  }
  const secret = secretFile !== undefined ? readTextFile(secretFile, '--webhook-secret-file').trim() : process.env.LICIT_WEBHOOK_SECRET;
  if (secret === undefined || secret === '') throw new LicenseError('ERR_USAGE', `--webhook needs the signing secret: --webhook-secret-file FILE or $LICIT_WEBHOOK_SECRET\nUsage: ${USAGE}`);
  const list = kinds === undefined ? undefined : kinds === '*' ? ('*' as const) : (kinds.split(',').map((k) => k.trim()).filter((k) => k !== '') as EventKind[]);
  if (Array.isArray(list)) {
    const { EVENT_KINDS } = await loadEventKinds();
    const unknown = list.filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
    if (unknown.length > 0) throw new LicenseError('ERR_USAGE', `--webhook-kinds: unknown event kind ${unknown.join(', ')}; the kinds are ${EVENT_KINDS.join(', ')} (or * for all)`);
  }
  return { endpoints: urls.map((url) => ({ url, secret, ...(list === undefined ? {} : { kinds: list }) })) };
}
