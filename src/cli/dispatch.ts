/**
 * The CLI dispatcher: picks the verb, runs it, and prints its outcome or error. Shared by the full
 * CLI (`main.ts`, ES modules, every verb loaded lazily) and the CommonJS bundle of the
 * `fingerprint` verb alone (`fingerprint-main.ts`), so both print exactly the same things.
 */
import { readFileSync, writeSync } from 'node:fs';
import { LicenseError } from '../cli-internals.js';
import { HelpRequested, type CliContext, type Outcome, type Verb } from './context.js';
import { didYouMean, flagHelp, helpText } from './help.js';

/** Verb name to a one-line summary and a loader of its module. */
export type VerbTable = Record<string, { summary: string; load: () => Promise<{ run: Verb }> }>;

/** The usage text listing every verb of `verbs`, and the dispatcher's own words (`help`, `--version`). */
export function usageOf(verbs: VerbTable): string {
  const own: [string, string][] = [['help', 'this list; `licit help VERB` describes a verb and every flag it takes, with examples']];
  return `Usage: licit <verb> [options] [--json]\n\nVerbs:\n${[...Object.entries(verbs).map(([name, v]): [string, string] => [name, v.summary]), ...own]
    .map(([name, summary]) => `  ${name.padEnd(12)} ${summary}`)
    .join('\n')}\n\nRun \`licit help VERB\` or \`licit VERB --help\` for a verb's flags, \`licit --version\` for the version.\nExit codes: 0 yes (done, valid, access granted), 1 no (a refusal: expired, denied, limit reached, conflict), 2 a usage mistake (fix the command line).`;
}

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
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') throw new StdoutClosed();
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // non-blocking pipe is full: wait for the reader
    }
  }
}

/** The reader of standard output went away (`licit … | head -1`): stop at once, quietly. */
class StdoutClosed extends Error {}

/** Exit status when standard output was closed early: what a shell shows for a process killed by SIGPIPE. */
const EXIT_STDOUT_CLOSED = 128 + 13;

function exitCodeFor(e: LicenseError): number {
  return e.code === 'ERR_USAGE' ? 2 : 1;
}

/**
 * Run the CLI with `argv` (without `node` and the script) over a table of verbs. Resolves to the
 * exit code; prints the outcome (or the error) as JSON with `--json`, else as text.
 */
export async function runCli(argv: string[], verbs: VerbTable, usage: string): Promise<number> {
  const json = argv.some((a) => a === '--json' || a.startsWith('--json='));
  const out = (s: string) => writeOut(s.endsWith('\n') ? s : `${s}\n`);
  const ctx: CliContext = {
    json,
    line: (data, text) => out(json ? JSON.stringify({ ok: true, ...data }) : text),
    warn: (text) => process.stderr.write(`${text}\n`),
    readStdin,
  };
  let currentVerb: string | undefined;
  try {
    let [verb, ...rest] = argv.filter((a, i) => !(i === 0 && a === '--json'));
    // `licit help VERB` is `licit VERB --help`.
    if (verb === 'help' && rest.some((a) => !a.startsWith('-'))) {
      const named = rest.find((a) => !a.startsWith('-')) as string;
      [verb, rest] = [named, ['--help']];
    }
    if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
      if (verb === undefined) throw new LicenseError('ERR_USAGE', `no verb given\n${usage}`);
      out(json ? JSON.stringify({ ok: true, usage }) : usage);
      return 0;
    }
    if (verb === '--version' || verb === '-v') {
      // dist/cli/ (and the bundle in it) and src/cli/ both sit two levels below the package root.
      const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      out(json ? JSON.stringify({ ok: true, version }) : version);
      return 0;
    }
    const entry = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
    if (entry === undefined) {
      const guess = didYouMean(verb, [...Object.keys(verbs), 'help']);
      throw new LicenseError('ERR_USAGE', `unknown verb "${verb}"${guess === undefined ? '' : `. Did you mean "${guess}"?`}\n${usage}`, guess === undefined ? {} : { suggestion: guess });
    }
    currentVerb = verb;
    const { run } = await entry.load();
    const outcome: Outcome | undefined = await run(rest, ctx);
    if (outcome !== undefined) out(json ? JSON.stringify({ ok: true, ...outcome.data }) : outcome.text);
    return outcome?.exitCode ?? 0;
  } catch (e) {
    // Nobody reads what we would print, error included; whatever was acknowledged stays done.
    if (e instanceof StdoutClosed) return EXIT_STDOUT_CLOSED;
    try {
      if (e instanceof HelpRequested) {
        const flags = flagHelp(currentVerb, e.options);
        out(json ? JSON.stringify({ ok: true, usage: `Usage: ${e.usage}`, flags }) : helpText(e.usage, flags));
        return 0;
      }
      const err =
        e instanceof LicenseError
          ? e
          : new LicenseError('ERR_INTERNAL', `unexpected failure: ${(e as Error)?.message ?? String(e)}. Please report this with the command you ran.`);
      if (json) out(JSON.stringify({ ok: false, error: err.toJSON() }));
      else process.stderr.write(`licit: ${err.code}: ${err.message}\n`);
      return exitCodeFor(err);
    } catch (e2) {
      if (e2 instanceof StdoutClosed) return EXIT_STDOUT_CLOSED;
      throw e2;
    }
  }
}
