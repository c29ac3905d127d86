/**
 * The runtime-neutral entry in the other JavaScript runtimes, from the built dist/: the same core
 * checks (test/fixtures/runtimes/core-checks.mjs: verify a license key from test/vectors with a
 * machine check, gate features, refuse a tampered key, verify a top-up) under Deno and Bun (both
 * from their npm packages, devDependencies), and in headless Chromium, bundled for the browser by
 * esbuild as an app would bundle `licit`, in a page and in a module Web Worker.
 *
 * Each runtime skips, saying why, only when its binary is missing here; under CI (CI=true) a
 * missing binary fails instead, since .ci/run installs all three (npm ci, and chromium from
 * .ci/apt-packages.txt).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { isNodeBuiltin } from './helpers/dist-graph.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = fileURLToPath(new URL('./fixtures/runtimes/main.mjs', import.meta.url));
const APP = fileURLToPath(new URL('./fixtures/runtimes/browser-app.mjs', import.meta.url));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const work = mkdtempSync(join(tmpdir(), 'licit-runtimes-'));
// Chromium's helper processes may still be writing its profile after it exits: retry the removal a
// few times, and leave a temporary directory behind rather than fail a test about runtimes.
afterAll(() => {
  try {
    rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (e) {
    console.warn(`could not remove ${work}: ${(e as Error).message}`);
  }
});

/** What every runtime must print (core-checks.mjs). */
const EXPECTED = {
  licenseId: 'LIC-FULL-0001',
  status: 'valid',
  machineMatch: true,
  hasReports: true,
  hasBilling: false,
  tampered: 'ERR_KEY_SIGNATURE',
  topUpCredits: 250,
};

const mod = (p: string) => join(ROOT, 'node_modules', p);
const platformArch = `${process.platform}-${process.arch}`;
/**
 * Where the npm packages put each binary: the package's own bin after its postinstall links it,
 * else the platform package npm installed as an optional dependency (so `--ignore-scripts` works).
 */
const CANDIDATES: Record<'deno' | 'bun' | 'chromium', string[]> = {
  deno: [mod('.bin/deno'), mod(`@deno/${platformArch}-glibc/deno`), mod(`@deno/${platformArch}/deno`)],
  bun: [
    mod('bun/bin/bun.exe'),
    ...[`${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}`].flatMap((p) => [mod(`@oven/bun-${p}/bin/bun`), mod(`@oven/bun-${p}-baseline/bin/bun`)]),
  ],
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser'],
};

/** The first candidate that runs `--version`, with the version it printed. */
function find(name: keyof typeof CANDIDATES): { bin: string; version: string } | { missing: string } {
  for (const bin of CANDIDATES[name]) {
    if (!existsSync(bin)) continue;
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { bin, version: r.stdout.trim().split('\n')[0]! };
  }
  return { missing: `${name} is not installed here (looked for ${CANDIDATES[name].join(', ')})${name === 'chromium' ? ': apt-get install chromium' : ': npm install'}` };
}

/** The binary, or skip (fail under CI) with the reason. */
function need(ctx: TestContext, name: keyof typeof CANDIDATES): string | undefined {
  const found = find(name);
  if ('bin' in found) return found.bin;
  if (CI) throw new Error(`CI must have ${name}: ${found.missing}`);
  ctx.skip(found.missing);
  return undefined;
}

function lastJsonLine(stdout: string): unknown {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line);
}

describe('the neutral entry under Deno and Bun', () => {
  it('Deno runs the core checks against dist/index.js', (ctx) => {
    const deno = need(ctx, 'deno');
    if (deno === undefined) return;
    // --allow-env: cbor-x reads CBOR_NATIVE_ACCELERATION_DISABLED (Deno gives npm packages their
    // node condition). No --allow-net, no --allow-write: the core needs neither.
    const r = spawnSync(deno, ['run', '--allow-read', '--allow-env', '--no-prompt', '--no-lock', '--quiet', MAIN], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', DENO_DIR: join(work, 'deno-dir') },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = lastJsonLine(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject(EXPECTED);
    expect(out.backend).toBe('webcrypto');
  }, 120_000);

  it('Bun runs the core checks against dist/index.js', (ctx) => {
    const bun = need(ctx, 'bun');
    if (bun === undefined) return;
    const r = spawnSync(bun, ['run', MAIN], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' } });
    expect(r.status, r.stderr).toBe(0);
    const out = lastJsonLine(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject(EXPECTED);
    expect(['webcrypto', 'noble']).toContain(out.backend);
  }, 120_000);
});

describe('the neutral entry bundled for the browser, in headless Chromium', () => {
  it('esbuild bundles a verifying app from `licit` with no node: import; it verifies in a page and in a Web Worker', async (ctx) => {
    // The bundle first: it must hold whatever Chromium is here.
    const site = join(work, 'site');
    const bundle = await build({
      absWorkingDir: ROOT,
      entryPoints: [APP],
      outfile: join(site, 'app.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs).toContain('dist/index.js'); // `licit` resolved through the exports map, browser conditions
    expect(inputs).toContain('dist/fingerprint.js');
    expect(inputs.filter((i) => i.startsWith('dist/node/') || i.endsWith('.node.js'))).toEqual([]);
    expect(Object.values(bundle.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path)).filter(isNodeBuiltin)).toEqual([]);
    const js = readFileSync(join(site, 'app.js'), 'utf8');
    expect(js).not.toMatch(/["']node:/);
    writeFileSync(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>licit</title><body>running</body><script type="module" src="app.js"></script>\n');

    const chromium = need(ctx, 'chromium');
    if (chromium === undefined) return;

    // A loopback server for the page (a worker cannot start from file://), which takes the result.
    let resolveResult!: (body: string) => void;
    const result = new Promise<string>((r) => (resolveResult = r));
    const server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/result') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          res.end('ok');
          resolveResult(body);
        });
        return;
      }
      const file = req.url === '/' || req.url === '/index.html' ? 'index.html' : req.url === '/app.js' ? 'app.js' : undefined;
      if (file === undefined) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', file.endsWith('.js') ? 'text/javascript' : 'text/html');
      res.end(readFileSync(join(site, file)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // The flags of docs: no sandbox as root, and nothing reaching for the network.
    const browser = spawn(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        `--user-data-dir=${join(work, 'chromium-profile')}`,
        `http://127.0.0.1:${port}/index.html`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    browser.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
    const exited = new Promise<string>((r) => browser.on('exit', (code) => r(`chromium exited (${code}) before the page answered: ${stderr}`)));
    const timeout = new Promise<string>((r) => setTimeout(() => r(`no answer from the page within 60 s: ${stderr}`), 60_000).unref());
    try {
      const body = await Promise.race([result, exited.then((m) => Promise.reject(new Error(m))), timeout.then((m) => Promise.reject(new Error(m)))]);
      const { page, worker, userAgent } = JSON.parse(body) as { page: Record<string, unknown>; worker: Record<string, unknown>; userAgent: string };
      expect(userAgent).toMatch(/Chrome\//);
      expect(page).toMatchObject(EXPECTED);
      expect(worker).toMatchObject(EXPECTED);
      expect(page.backend).toBe('webcrypto');
    } finally {
      browser.kill('SIGKILL');
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 120_000);
});
