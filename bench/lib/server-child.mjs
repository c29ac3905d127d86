// A server for bench/server.bench.ts, in its own process, from the built dist/. Prints one JSON
// line `{ "port": n }` once it listens on 127.0.0.1.
//   node server-child.mjs licit <store> <signing-key-file> [workers]   the license server on a store:
//        `memory`, a FileStore directory or a postgres:// URL; with workers > 1, node:cluster
//        workers share the port (each its own store connection), as an operator would run it
//   node server-child.mjs hello                 bare node:http answering a fixed JSON body
//   node server-child.mjs fsync <file>          bare node:http: read the body, append it to a file, fdatasync, answer
//   node server-child.mjs pg <url>              bare node:http: read the body, INSERT it into PostgreSQL, answer
import cluster from 'node:cluster';
import { openSync, writeSync, fdatasyncSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [mode, arg, keyFile, workersArg] = process.argv.slice(2);
const workers = Number(workersArg ?? 1);
const ready = (port) => process.stdout.write(`${JSON.stringify({ port })}\n`);

async function bare(handler) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handler(Buffer.concat(chunks))).then(
        () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        },
        (e) => {
          res.writeHead(500);
          res.end(String(e));
        },
      );
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  ready(server.address().port);
}

if (mode === 'hello') await bare(() => undefined);
else if (mode === 'fsync') {
  const fd = openSync(arg, 'a');
  await bare((body) => {
    writeSync(fd, body);
    writeSync(fd, '\n');
    fdatasyncSync(fd);
  });
} else if (mode === 'pg') {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: arg, max: 8 });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, body jsonb NOT NULL)');
  await bare((body) => pool.query('INSERT INTO bench_bare (body) VALUES ($1)', [body.toString()]));
} else if (mode === 'licit') {
  if (workers > 1 && cluster.isPrimary) {
    let port;
    for (let i = 0; i < workers; i++) {
      const w = cluster.fork();
      w.on('message', (m) => {
        if (port === undefined && typeof m?.port === 'number') ready((port = m.port));
      });
    }
  } else {
    const { createLicenseServer } = await import('../../dist/server/index.js');
    const { MemoryStore } = await import('../../dist/seats.js');
    const base = { signingKey: readFileSync(keyFile, 'utf8'), rateLimit: false, accessLog: false };
    // Any other store the way an operator names it: $LICIT_STORE (a directory or a postgres:// URL).
    if (arg !== 'memory') process.env.LICIT_STORE = arg;
    const server = createLicenseServer(arg === 'memory' ? { ...base, store: new MemoryStore() } : base);
    const bound = await server.listen(0, '127.0.0.1');
    if (cluster.isWorker) process.send({ port: bound.port });
    else ready(bound.port);
  }
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
