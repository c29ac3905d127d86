// Bundle the `licit fingerprint` entry into one CommonJS file, dist/cli/fingerprint.cjs (see
// src/cli/fingerprint-main.ts for why). Runs after tsc, from the compiled dist/ modules.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/fingerprint-main.js'],
  outfile: 'dist/cli/fingerprint.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The addon loader finds build/ and prebuilds/ from the package root, which it searches for
  // upwards from its own file: inside the bundle, the bundle's own URL serves.
  define: { 'import.meta.url': '__licitModuleUrl' },
  banner: { js: "const __licitModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  external: ['node-gyp-build'],
  legalComments: 'none',
  logLevel: 'warning',
});
