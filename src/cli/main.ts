/**
 * `licit` command-line entry. A thin shell over the public API: each verb lives in
 * `commands/<verb>.ts` and is imported only when used, so a cold start loads nothing
 * the verb does not need.
 */
import { writeSync } from 'node:fs';
import { LicenseError } from '../core/errors.js';
import { HelpRequested, type CliContext, type Outcome, type Verb } from './context.js';

const VERBS: Record<string, { summary: string; load: () => Promise<{ run: Verb }> }> = {
  keygen: { summary: 'make a vendor key pair', load: () => import('./commands/keygen.js') },
  issue: { summary: 'sign a license key (vendor)', load: () => import('./commands/issue.js') },
  verify: { summary: 'verify a license key and print its status', load: () => import('./commands/verify.js') },
  inspect: { summary: 'decode a license key WITHOUT verifying it', load: () => import('./commands/inspect.js') },
  credits: { summary: 'click-charge credits: status, history, verify, consume, topup', load: () => import('./commands/credits.js') },
  topup: { summary: 'sign a top-up token adding credits to a license (vendor)', load: () => import('./commands/topup.js') },
  seats: { summary: 'named seats per user type: assign, release, list, usage, access', load: () => import('./commands/seats.js') },
  fingerprint: { summary: "this machine's fingerprint, or why it no longer matches (--explain)", load: () => import('./commands/fingerprint.js') },
  smbios: { summary: 'decode an SMBIOS dump (dmidecode --dump-bin) for support', load: () => import('./commands/smbios.js') },
  request: { summary: 'make an offline activation/renewal request code', load: () => import('./commands/request.js') },
  respond: { summary: 'answer a request code with a response code (vendor)', load: () => import('./commands/respond.js') },
  apply: { summary: 'install a response code (lease) on this installation', load: () => import('./commands/apply.js') },
  serve: { summary: 'run the license server (vendor)', load: () => import('./commands/serve.js') },
  log: { summary: 'the audit log of a license, hash chain verified', load: () => import('./commands/log.js') },
  report: { summary: 'usage report over a day, week, month or custom range (--html for charts)', load: () => import('./commands/report.js') },
  // LICIT-VERBS: later verbs register here (fingerprint, smbios, credits, topup, seats, request, respond, apply, serve, log, report).
};

const USAGE = `Usage: licit <verb> [options] [--json]\n\nVerbs:\n${Object.entries(VERBS)
  .map(([name, v]) => `  ${name.padEnd(12)} ${v.summary}`)
  .join('\n')}\n\nRun \`licit <verb> --help\` for a verb's options.`;

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) return resolve('');
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      // Keys are small; refuse to buffer an accidental multi-megabyte pipe.
      if (size > 4 * 1024 * 1024) {
        process.stdin.destroy();
        reject(new LicenseError('ERR_KEY_TOO_LARGE', 'standard input is larger than 4 MiB; licit inputs are a few kilobytes at most'));
      } else chunks.push(c);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/**
 * Write to standard output synchronously: once this returns, the line is in the pipe (a SIGKILL
 * right after cannot lose an acknowledged line), and a cold start does not load the stream stack.
 */
function writeOut(text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // non-blocking pipe is full: wait for the reader
    }
  }
}

function exitCodeFor(e: LicenseError): number {
  return e.code === 'ERR_USAGE' ? 2 : 1;
}

/** Run the CLI with `argv` (without `node` and the script). Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const json = argv.some((a) => a === '--json' || a.startsWith('--json='));
  const out = (s: string) => writeOut(s.endsWith('\n') ? s : `${s}\n`);
  const ctx: CliContext = {
    json,
    line: (data, text) => out(json ? JSON.stringify({ ok: true, ...data }) : text),
    warn: (text) => process.stderr.write(`${text}\n`),
    readStdin,
  };
  try {
    const [verb, ...rest] = argv.filter((a, i) => !(i === 0 && a === '--json'));
    if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
      if (verb === undefined) throw new LicenseError('ERR_USAGE', `no verb given\n${USAGE}`);
      out(json ? JSON.stringify({ ok: true, usage: USAGE }) : USAGE);
      return 0;
    }
    const entry = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
    if (entry === undefined) throw new LicenseError('ERR_USAGE', `unknown verb "${verb}"\n${USAGE}`);
    const { run } = await entry.load();
    const outcome: Outcome | undefined = await run(rest, ctx);
    if (outcome !== undefined) out(json ? JSON.stringify({ ok: true, ...outcome.data }) : outcome.text);
    return outcome?.exitCode ?? 0;
  } catch (e) {
    if (e instanceof HelpRequested) {
      out(json ? JSON.stringify({ ok: true, usage: `Usage: ${e.usage}` }) : `Usage: ${e.usage}`);
      return 0;
    }
    const err =
      e instanceof LicenseError
        ? e
        : new LicenseError('ERR_INTERNAL', `unexpected failure: ${(e as Error)?.message ?? String(e)}. Please report this with the command you ran.`);
    if (json) out(JSON.stringify({ ok: false, error: err.toJSON() }));
    else process.stderr.write(`licit: ${err.code}: ${err.message}\n`);
    return exitCodeFor(err);
  }
}
