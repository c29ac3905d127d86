/** Run the built CLI (`bin/licit.cjs` over `dist/`) as a real process. */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LICIT_BIN = fileURLToPath(new URL('../../bin/licit.cjs', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as one JSON object (throws if it is not exactly one). */
  json(): Record<string, unknown> & { ok: boolean; error?: { code: string; message: string } };
}

export function licit(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [LICIT_BIN, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    timeout: 60_000,
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout) as ReturnType<CliResult['json']>,
  };
}

/**
 * The built CLI as a real process, awaited without blocking this process's event loop: a server
 * the test runs in process (its store's lock timers, a webhook receiver) keeps answering meanwhile,
 * which `licit()` (spawnSync) would stop.
 */
export function licitAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; json(): Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [LICIT_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> }));
  });
}
