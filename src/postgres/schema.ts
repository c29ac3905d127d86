/**
 * The PostgreSQL schema of {@link PostgresStore}, created on first use and versioned: a
 * `schema_version` table records each migration applied, and migrations run under an advisory
 * lock so that many app servers starting at once apply each exactly once.
 */
import type { PoolClient } from 'pg';
import { LicenseError } from '../core/errors.js';

/** The schema version this build of licit writes. */
export const SCHEMA_VERSION = 1;

/** Table names, quoted and qualified by the configured schema. */
export interface Tables {
  readonly schema: string;
  readonly version: string;
  readonly licenses: string;
  readonly records: string;
  readonly events: string;
}

/** Qualified table names for `schema` (a plain lower-case SQL identifier). */
export function tables(schema: string): Tables {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new LicenseError('ERR_USAGE', `PostgreSQL schema name must be lower-case letters, digits and underscores (at most 63), got "${schema}"`);
  }
  const q = (t: string) => `"${schema}"."${t}"`;
  return { schema: `"${schema}"`, version: q('schema_version'), licenses: q('licenses'), records: q('records'), events: q('events') };
}

/** Migration n takes the schema from version n-1 to n. */
function migrations(t: Tables): string[] {
  return [
    // 1: one row per license (the lock every transaction takes), records, and the audit trail.
    `CREATE TABLE ${t.licenses} (
       license_id text PRIMARY KEY,
       last_seq bigint NOT NULL DEFAULT 0
     );
     CREATE TABLE ${t.records} (
       license_id text NOT NULL REFERENCES ${t.licenses} (license_id),
       kind text NOT NULL,
       key text COLLATE "C" NOT NULL,
       value jsonb NOT NULL,
       PRIMARY KEY (license_id, kind, key)
     );
     CREATE TABLE ${t.events} (
       license_id text NOT NULL REFERENCES ${t.licenses} (license_id),
       seq bigint NOT NULL,
       at timestamptz NOT NULL,
       actor text NOT NULL,
       kind text NOT NULL,
       details jsonb NOT NULL,
       PRIMARY KEY (license_id, seq)
     );
     -- The audit trail is append-only: refuse edits at the database too, not just in licit.
     CREATE FUNCTION ${t.schema}.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'licit audit events are append-only'; END $$;
     CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ${t.events}
       FOR EACH ROW EXECUTE FUNCTION ${t.schema}.refuse_event_change();`,
  ];
}

/**
 * Bring the schema to {@link SCHEMA_VERSION}. Idempotent; concurrent callers serialize on an
 * advisory lock keyed by the schema name.
 * @throws `ERR_STORE_CORRUPT` when the database holds a newer schema than this licit knows
 */
export async function migrate(client: PoolClient, t: Tables): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`licit-schema:${t.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t.version} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${t.version}`);
    const current = r.rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new LicenseError('ERR_STORE_CORRUPT', `the licit tables in schema ${t.schema} are at version ${current}, newer than this licit understands (${SCHEMA_VERSION}); upgrade licit`, { version: current, supported: SCHEMA_VERSION });
    }
    const all = migrations(t);
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      await client.query(all[v - 1] as string);
      await client.query(`INSERT INTO ${t.version} (version) VALUES ($1)`, [v]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
