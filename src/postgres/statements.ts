/**
 * The SQL of {@link PostgresStore}'s transactions, one function per statement. Each text depends
 * only on the schema's table names, so a store can prepare it once per connection under one name
 * (statements.ts builds the text, store.ts names and runs it).
 */
import type { BufferedTx } from '../core/store/store.js';
import type { Tables } from './schema.js';

/**
 * The first statement of an optimistic transaction, in one snapshot: the license row's version
 * (`xmin`) and newest event number, then every record named by (`$2`, `$3`) kind and key arrays,
 * or of a kind in `$4`. The version row is the one whose `kind` is null.
 */
export const firstReadSql = ({ licenses, records }: Tables): string =>
  `SELECT l.xmin::text AS v, l.last_seq, NULL::text AS kind, NULL::text AS key, NULL::jsonb AS value FROM ${licenses} l WHERE l.license_id = $1
   UNION ALL
   SELECT NULL, NULL, kind, key, value FROM ${records} WHERE license_id = $1
      AND ((kind, key) IN (SELECT * FROM unnest($2::text[], $3::text[])) OR kind = ANY($4::text[]))`;

/** The license row's version alone: has anyone committed since the first read? */
export const versionSql = ({ licenses }: Tables): string => `SELECT xmin::text AS v FROM ${licenses} WHERE license_id = $1`;

/** The license row, created on first use (a concurrent creator makes this a no-op). */
export const createLicenseSql = ({ licenses }: Tables): string => `INSERT INTO ${licenses} (license_id) VALUES ($1) ON CONFLICT DO NOTHING`;

/** One record. */
export const getSql = ({ records }: Tables): string => `SELECT value FROM ${records} WHERE license_id = $1 AND kind = $2 AND key = $3`;

/** Several records by (`$2`, `$3`) kind and key arrays, and every record of the kinds in `$4`. */
export const getManySql = ({ records }: Tables): string =>
  `SELECT kind, key, value FROM ${records} WHERE license_id = $1
     AND ((kind, key) IN (SELECT * FROM unnest($2::text[], $3::text[])) OR kind = ANY($4::text[]))`;

/** Records of kind `$2` whose key starts with `$3`. */
export const listSql = ({ records }: Tables): string => `SELECT key, value FROM ${records} WHERE license_id = $1 AND kind = $2 AND starts_with(key, $3) ORDER BY key`;

/**
 * The one statement that commits a transaction's writes and events and moves the license row
 * (`$1` license, `$2` writes, `$3` events, `$4` the new last seq; see {@link commitParams}). When
 * `guarded`, `$5` is the row's xmin at the first read: the statement applies only if it is still
 * that one, and answers how many rows it moved (0: another commit came between, nothing written).
 */
export function commitSql({ licenses, records, events }: Tables, guarded: boolean): string {
  const guard = guarded ? ' WHERE EXISTS (SELECT 1 FROM v)' : '';
  const rows = `jsonb_to_recordset($2::jsonb) AS x(kind text, key text, del boolean, value jsonb)`;
  const body = `w AS (SELECT * FROM ${rows}${guard}),
       d AS (DELETE FROM ${records} r USING w WHERE w.del AND r.license_id = $1 AND r.kind = w.kind AND r.key = w.key),
       u AS (INSERT INTO ${records} (license_id, kind, key, value)
               SELECT $1, kind, key, value FROM w WHERE NOT w.del
               ON CONFLICT (license_id, kind, key) DO UPDATE SET value = EXCLUDED.value),
       e AS (INSERT INTO ${events} (license_id, seq, at, actor, kind, details)
               SELECT $1, seq, at, actor, kind, details
               FROM jsonb_to_recordset($3::jsonb) AS x(seq bigint, at timestamptz, actor text, kind text, details jsonb)${guard})`;
  return guarded
    ? `WITH v AS (UPDATE ${licenses} SET last_seq = $4 WHERE license_id = $1 AND xmin = $5::text::xid RETURNING 1), ${body} SELECT count(*)::int AS n FROM v`
    : `WITH ${body} UPDATE ${licenses} SET last_seq = $4 WHERE license_id = $1`;
}

/** `$2`..`$4` of the commit statement: a transaction's writes and events, and the license's new last seq. */
export function commitParams(tx: BufferedTx, lastSeq: number): [string, string, number] {
  const writes = tx.writes.map((w) => (w.value === undefined ? { kind: w.kind, key: w.key, del: true } : { kind: w.kind, key: w.key, del: false, value: w.value }));
  return [JSON.stringify(writes), JSON.stringify(tx.events), tx.events.at(-1)?.seq ?? lastSeq];
}
