/**
 * `licit fingerprint` on its own: the entry that `scripts/build-cli.js` bundles into one CommonJS
 * file (`dist/cli/fingerprint.cjs`). `bin/licit.cjs` runs it for this verb, the one applications
 * and install scripts run on every start, because an ES module graph costs Node's module loader
 * about 10 ms before any code runs; a single CommonJS file costs close to nothing. The verb and the
 * dispatcher are the same modules the full CLI uses, so the output is the same.
 */
import { run } from './commands/fingerprint.js';
import { runCli, usageOf, type VerbTable } from './dispatch.js';

const VERBS: VerbTable = {
  fingerprint: { summary: "this machine's fingerprint, or why it no longer matches (--explain)", load: async () => ({ run }) },
};

/** Run `licit fingerprint …` with `argv` (without `node` and the script). Resolves to the exit code. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, VERBS, usageOf(VERBS));
}
