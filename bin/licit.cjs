#!/usr/bin/env node
'use strict';
// CommonJS on purpose: an ES module entry costs Node about 10 ms of loader start-up before any
// code runs. `licit fingerprint`, which applications and install scripts run on every start, is
// served by a CommonJS bundle of that verb alone (see src/cli/fingerprint-main.ts); every other
// verb loads the ES module CLI, which imports only the modules of the verb asked for.
const argv = process.argv.slice(2);
const verb = argv[0] === '--json' ? argv[1] : argv[0];

function load() {
  if (verb === 'fingerprint') {
    try {
      return Promise.resolve(require('../dist/cli/fingerprint.cjs'));
    } catch (e) {
      if (e === null || typeof e !== 'object' || e.code !== 'MODULE_NOT_FOUND') throw e;
      // Built by tsc alone (no bundle): the ES module CLI has the same verb.
    }
  }
  return import('../dist/cli/main.js');
}

load()
  .then((cli) => cli.main(argv))
  .then((code) => {
    process.exitCode = code;
  });
