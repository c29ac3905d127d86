/** Start a real `licit serve` process on a free loopback port (tests only). */
import { spawn, type ChildProcess } from 'node:child_process';
import { LICIT_BIN } from './cli.js';

/**
 * Run `licit serve --port 0 --json ...args` and resolve with its URL once it printed its
 * listening line; the process is pushed onto `procs` so the caller's afterAll can kill it.
 */
export function startServer(args: string[], procs: ChildProcess[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [LICIT_BIN, 'serve', ...args, '--port', '0', '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        const j = JSON.parse(out.split('\n')[0] as string) as { port: number; host: string };
        resolve({ url: `http://${j.host}:${j.port}`, proc });
      }
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}: ${err}`)));
  });
}
