/** Run the built CLI (`bin/licit.cjs` over `dist/`) as a real process. */
import { spawnSync } from 'node:child_process';
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
