/**
 * The import graph of built files under dist/: each module's static imports, re-exports and
 * `import('…')` calls, followed through relative specifiers. Bare specifiers (packages, `node:`
 * modules) are collected, not followed. Used to prove an entry's graph never reaches Node.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';

const SPEC_RE = /^\s*(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Whether `spec` names a Node built-in module (`node:fs`, `fs`, `fs/promises`, …). */
export const isNodeBuiltin = (spec: string): boolean => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!);

export interface DistGraph {
  /** Every module reached, as paths relative to `root`. */
  readonly modules: readonly string[];
  /** Every bare specifier, with the module that imports it. */
  readonly bare: ReadonlyArray<{ readonly from: string; readonly spec: string }>;
}

/** Walk from `entry` (a path under `root`, e.g. `dist/index.js`). */
export function distGraph(root: string, entry: string): DistGraph {
  const seen = new Set<string>();
  const bare: Array<{ from: string; spec: string }> = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    // Comments may show imports (`@example` blocks in the emitted JS): drop them first.
    const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(SPEC_RE)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) visit(relative(root, join(root, dirname(file), spec)).split('\\').join('/'));
      else bare.push({ from: file, spec });
    }
  };
  visit(entry);
  return { modules: [...seen].sort(), bare };
}
