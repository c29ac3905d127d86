/**
 * The layer rules of docs/architecture.md, checked on the source: every `src/**\/*.ts` is read, its
 * static imports, re-exports and `import('…')` calls are collected by regex, and each one is held
 * against the rules. A violation that cannot be fixed yet goes in ALLOWED below, with its reason;
 * an entry that no longer matches an import fails the test, so the list can only shrink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VIRTUAL_DESCRIPTION_WORDS, VIRTUAL_NAME_PREFIXES, isPlaceholder } from '../src/core/fingerprint/rules.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/**
 * Layers by top folder of src/. `os` is a leaf of Node built-in helpers with no licit imports
 * (make-dir), shared by the issuer and the Node runtime. The files at the top of src/ are the
 * package's entries: `index.ts`, `seats.ts`, `admin.ts` and `fingerprint.ts` are runtime-neutral
 * (`entry`: the core only, no `node:`), and each `*.node.ts` beside one (`entry-node`) is what the
 * `node` export condition serves instead: the neutral entry plus the Node runtime.
 */
type Layer = 'core' | 'os' | 'issuer' | 'node' | 'server' | 'postgres' | 'cli' | 'entry' | 'entry-node';

/** What each layer may import from src/ (its own layer always). See docs/architecture.md. */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  core: [],
  os: [],
  issuer: ['core', 'os'],
  node: ['core', 'os'],
  // The server opens a store from a string (a path or postgres://): it sits above both kinds of store.
  server: ['core', 'os', 'issuer', 'node', 'postgres'],
  postgres: ['core', 'os', 'issuer', 'node'],
  cli: ['core', 'os', 'issuer', 'node', 'server', 'postgres', 'entry', 'entry-node'],
  entry: ['core'],
  'entry-node': ['core', 'node', 'entry'],
};

/**
 * Known violations, `from -> to` as paths under src/. Empty: every rule holds. Add an entry only
 * with a comment giving the reason and the way out; remove it when fixed (the test insists).
 */
const ALLOWED: ReadonlyArray<readonly [from: string, to: string]> = [];

/**
 * Known import cycles, each as the cycle the DFS reports. Empty: there are none. Same rule: a
 * reason, and the test fails once the cycle is gone.
 */
const ALLOWED_CYCLES: readonly string[] = [];

/** Longest a source file may be, in lines: past this a file holds several concerns (docs/architecture.md). */
const MAX_LINES = 400;

/**
 * Files allowed past MAX_LINES, each with its reason. Empty: every file is within it. Same rule as
 * ALLOWED: an entry whose file is back under the limit (or gone) fails the test, so the list can
 * only shrink.
 */
const ALLOWED_LONG: readonly string[] = [];

interface Edge {
  readonly from: string; // path under src/, e.g. "issuer/issue.ts"
  readonly spec: string; // the specifier as written
  readonly to?: string; // resolved path under src/ for a relative specifier
  readonly typeOnly: boolean;
  /** An `import('…')` expression (a lazy load, or a `typeof import('…')` type), not a static import. */
  readonly dynamic?: true;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

const IMPORT_RE = /^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function edgesOf(file: string): Edge[] {
  // Comments may show imports (`@example` blocks): drop them first.
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const from = relative(SRC, file).split('\\').join('/');
  const out: Edge[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = (m[3] ?? m[4] ?? m[5])!;
    const typeOnly = m[2] !== undefined;
    const dynamic = m[5] !== undefined ? { dynamic: true as const } : {};
    if (spec.startsWith('.')) {
      const to = relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))).split('\\').join('/');
      out.push({ from, spec, to, typeOnly, ...dynamic });
    } else {
      out.push({ from, spec, typeOnly, ...dynamic });
    }
  }
  return out;
}

/** The CLI's one internal entry (not a package export): part of the cli layer, at the top of src/ beside the entries. */
const CLI_INTERNALS = 'cli-internals.ts';

const layerOf = (path: string): Layer =>
  path === CLI_INTERNALS ? 'cli' : path.includes('/') ? (path.slice(0, path.indexOf('/')) as Layer) : path.endsWith('.node.ts') ? 'entry-node' : 'entry';

/**
 * What src/cli/** may import from the rest of src/: the package's public entries (the files behind
 * package.json `exports` under the `node` condition) and the CLI's one internal entry, never a deep
 * path (docs/architecture.md).
 */
const CLI_ENTRIES: readonly string[] = [
  'index.node.ts',
  'seats.ts',
  'admin.ts',
  'fingerprint.node.ts',
  'node/index.ts',
  'issuer/index.ts',
  'server/index.ts',
  'postgres/index.ts',
  CLI_INTERNALS,
];

/** Imports from src/cli/** (static, re-export, type-only, dynamic) that land outside src/cli/ on a file that is not in CLI_ENTRIES. */
function cliDeepImports(edges: readonly Edge[]): string[] {
  return edges
    .filter((e) => e.from.startsWith('cli/') && e.to !== undefined && !e.to.startsWith('cli/') && !CLI_ENTRIES.includes(e.to))
    .map((e) => `${e.from} -> ${e.spec}${e.typeOnly ? ' (type-only)' : ''}`);
}

const ALL = files(SRC).sort();
const EDGES = ALL.flatMap(edgesOf);

function violations(): string[] {
  const out: string[] = [];
  for (const e of EDGES) {
    const from = layerOf(e.from);
    if (e.to === undefined) {
      if ((from === 'core' || from === 'entry') && (e.spec.startsWith('node:') || /^(fs|path|os|crypto|child_process|url|module|util|stream|net|http|https|worker_threads)(\/|$)/.test(e.spec))) {
        out.push(`${e.from} -> ${e.spec} (the core runs without Node: no node: modules)`);
      }
      continue;
    }
    if (!e.to.endsWith('.ts') || e.to.startsWith('..')) {
      out.push(`${e.from} -> ${e.spec} (outside src/)`);
      continue;
    }
    const to = layerOf(e.to);
    if (to !== from && !MAY_IMPORT[from].includes(to)) out.push(`${e.from} -> ${e.to} (${from} may import ${MAY_IMPORT[from].join(', ') || 'nothing outside itself'})`);
  }
  return out;
}

const allowedText = ALLOWED.map(([f, t]) => `${f} -> ${t}`);
const isAllowed = (v: string) => allowedText.some((a) => v.startsWith(`${a} (`));

describe('architecture: the layer rules of docs/architecture.md', () => {
  it('finds the source and its imports', () => {
    expect(ALL.length).toBeGreaterThan(50);
    // The parser sees the forms the code uses: static, re-export, type-only, dynamic.
    expect(EDGES).toContainEqual({ from: 'issuer/issue.ts', spec: '../core/fingerprint/fingerprint.js', to: 'core/fingerprint/fingerprint.ts', typeOnly: false });
    expect(EDGES.some((e) => e.from === 'node/fingerprint/get.ts' && e.spec === './fallback.js')).toBe(true);
    expect(EDGES.some((e) => e.typeOnly)).toBe(true);
    for (const e of EDGES) if (e.to !== undefined) expect(ALL, `${e.from} imports ${e.spec}, which does not exist`).toContain(join(SRC, e.to));
  });

  it('every import follows the layer rules (or is on the allow-list, with its reason)', () => {
    expect(violations().filter((v) => !isAllowed(v))).toEqual([]);
  });

  it('the allow-list only names violations that still exist', () => {
    const v = violations();
    expect(allowedText.filter((a) => !v.some((x) => x.startsWith(`${a} (`)))).toEqual([]);
  });

  it('each runtime-neutral entry reaches only the core, and no node: module, through every import (type-only ones aside)', () => {
    const entries = ALL.map((p) => relative(SRC, p)).filter((p) => layerOf(p) === 'entry');
    expect(entries.sort()).toEqual(['admin.ts', 'fingerprint.ts', 'index.ts', 'seats.ts']);
    for (const entry of entries) {
      const seen = new Set<string>([entry]);
      const bad: string[] = [];
      for (const f of seen) {
        for (const e of EDGES.filter((x) => x.from === f && !x.typeOnly)) {
          if (e.to === undefined) {
            if (e.spec.startsWith('node:')) bad.push(`${f} -> ${e.spec}`);
          } else if (!['core', 'entry'].includes(layerOf(e.to))) bad.push(`${f} -> ${e.to}`);
          else seen.add(e.to);
        }
      }
      expect(bad, `${entry} (imported as licit without the node condition)`).toEqual([]);
      expect(seen.size, entry).toBeGreaterThan(1);
    }
    // Each neutral entry that Node serves differently has its *.node.ts twin.
    expect(ALL.map((p) => relative(SRC, p)).filter((p) => layerOf(p) === 'entry-node').sort()).toEqual(['fingerprint.node.ts', 'index.node.ts']);
  });

  it('the core and the neutral entries use no Node globals (Buffer, process)', () => {
    const bad: string[] = [];
    for (const f of ALL.filter((p) => ['core', 'entry'].includes(layerOf(relative(SRC, p))))) {
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'|`[^`]*`/g, "''");
      // base64.ts and cbor.ts feature-test globalThis.Buffer for speed and run without it.
      for (const m of code.matchAll(/(?<![.\w])(Buffer|process)\s*[.(]/g)) bad.push(`${relative(SRC, f)}: ${m[0]}`);
    }
    expect(bad).toEqual([]);
  });

  it('the fingerprint model lives in the core; src/node/fingerprint keeps only OS reads and re-exports', () => {
    for (const name of ['fingerprint', 'match', 'strength', 'salt', 'hmac', 'rules', 'facts']) {
      const node = EDGES.filter((e) => e.from === `node/fingerprint/${name}.ts`);
      expect(node.map((e) => e.to)).toEqual([`core/fingerprint/${name}.ts`]);
      expect(ALL).toContain(join(SRC, `core/fingerprint/${name}.ts`));
    }
  });

  it('no import cycles among src files (type-only imports included)', () => {
    const next = new Map<string, string[]>();
    for (const e of EDGES) if (e.to !== undefined) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of next.get(f) ?? []) {
        const s = state.get(t);
        if (s === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' -> '));
        else if (s === undefined) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of ALL.map((p) => relative(SRC, p).split('\\').join('/'))) if (!state.has(f)) visit(f);
    expect(cycles.filter((c) => !ALLOWED_CYCLES.includes(c))).toEqual([]);
    expect(ALLOWED_CYCLES.filter((c) => !cycles.includes(c)), 'allowed cycles that are gone: remove them from ALLOWED_CYCLES').toEqual([]);
  });

  it('the core is grouped by concept: no loose file in src/core but errors.ts (the one error type every group throws)', () => {
    const loose = readdirSync(join(SRC, 'core'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    expect(loose).toEqual(['errors.ts']);
    const groups = readdirSync(join(SRC, 'core'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(groups).toEqual(['admin', 'codec', 'crypto', 'exchange', 'fingerprint', 'ledger', 'license', 'seats', 'store', 'time']);
  });

  it('the Node runtime is grouped the same way: src/node holds only its entry, index.ts, beside its folders', () => {
    const loose = readdirSync(join(SRC, 'node'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    expect(loose).toEqual(['index.ts']);
  });

  it('the CLI imports licit through the public entries and src/cli-internals.ts only, never a deep path', () => {
    // The parser sees the CLI's forms: dynamic imports (verbs load lazily) and type-only ones.
    expect(EDGES.some((e) => e.from.startsWith('cli/') && e.typeOnly)).toBe(true);
    expect(EDGES.some((e) => e.from === 'cli/commands/serve.ts' && e.spec === '../../server/index.js')).toBe(true);
    expect(cliDeepImports(EDGES)).toEqual([]);
    // The rule bites: a deep import, static, type-only or dynamic, is reported.
    const planted: Edge[] = [
      { from: 'cli/commands/verify.ts', spec: '../../core/errors.js', to: 'core/errors.ts', typeOnly: false },
      { from: 'cli/context.ts', spec: '../core/license/claims.js', to: 'core/license/claims.ts', typeOnly: true },
      { from: 'cli/commands/serve.ts', spec: '../../server/vendor.js', to: 'server/vendor.ts', typeOnly: false },
    ];
    expect(cliDeepImports(planted)).toHaveLength(3);
    // Every entry named exists, and the internal one is not a package export.
    for (const e of CLI_ENTRIES) expect(ALL, e).toContain(join(SRC, e));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; main?: string; types?: string };
    const exported = JSON.stringify([pkg.exports, pkg.main, pkg.types]);
    expect(exported).not.toMatch(/cli-internals/);
    for (const e of CLI_ENTRIES.filter((x) => x !== CLI_INTERNALS)) expect(exported, `${e} is a package export`).toContain(`./dist/${e.replace(/\.ts$/, '.js')}`);
  });

  it('a cold start of the CLI loads no more of licit than before: the dispatcher and cli-internals.ts import only errors and time-words statically', () => {
    // What a module loads at once: its static imports, followed (type-only and dynamic ones aside).
    const staticClosure = (start: string): string[] => {
      const seen = new Set([start]);
      for (const f of seen) for (const e of EDGES) if (e.from === f && e.to !== undefined && !e.typeOnly && e.dynamic !== true) seen.add(e.to);
      return [...seen].sort();
    };
    // Every verb loads cli-internals.ts (LicenseError): what it imports statically, every verb pays
    // for. The rest of what it gives is behind loaders (dynamic imports), loaded by the verb that calls one.
    expect(staticClosure(CLI_INTERNALS)).toEqual(['cli-internals.ts', 'core/errors.ts', 'core/time/time-words.ts']);
    expect(EDGES.filter((e) => e.from === CLI_INTERNALS && e.dynamic === true).length).toBeGreaterThan(10);
    // `licit --version`, `licit help`: the verb table, the dispatcher, the flag parser and the help,
    // and the two modules above; no verb and nothing else of licit.
    expect(staticClosure('cli/main.ts')).toEqual(['cli-internals.ts', 'cli/context.ts', 'cli/dispatch.ts', 'cli/help.ts', 'cli/main.ts', 'core/errors.ts', 'core/time/time-words.ts']);
  });

  it(`no source file is over ${MAX_LINES} lines (or is on the allow-list, with its reason)`, () => {
    const long = ALL.map((f) => ({ path: relative(SRC, f).split('\\').join('/'), lines: readFileSync(f, 'utf8').split('\n').length - 1 })).filter((f) => f.lines > MAX_LINES);
    expect(long.filter((f) => !ALLOWED_LONG.includes(f.path)).map((f) => `${f.path}: ${f.lines} lines`)).toEqual([]);
    expect(ALLOWED_LONG.filter((a) => !long.some((f) => f.path === a)), 'files back under the limit: remove them from ALLOWED_LONG').toEqual([]);
  });
});

describe('architecture: the addon reports facts, the core judges them', () => {
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
  // The addon's sources (not its build directories), comments removed: what is compiled.
  const sources = [...files(join(ROOT, 'native/src')), ...files(join(ROOT, 'native/include'))].map((f) => ({
    file: relative(ROOT, f),
    code: readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''),
  }));
  const literals = sources.flatMap(({ file, code }) => [...code.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((m) => ({ file, text: m[1]! })));
  // What the addon may say that the rules would read as words: the sysfs entries it checks by name,
  // its result's property names, and the `none`/`unknown` it reports for a missing source.
  const ALLOWED = new Set(['bridge', 'bonding', 'manufacturer', 'version', 'none', 'unknown']);
  const REASONS = ['loopback', 'no-device', 'not-ethernet', 'bridge', 'bond', 'tun-tap', 'sriov-vf', 'virtual-devtype', 'virtual-name', 'virtual-driver', 'no-usable-address', 'random-address', 'stolen-address', 'user-set-address', 'unknown-address-type'];

  it('native/ holds no adapter keyword, placeholder text or rejection reason, and no function that judges', () => {
    expect(literals.length).toBeGreaterThan(50);
    const words = new Set([...VIRTUAL_NAME_PREFIXES, ...VIRTUAL_DESCRIPTION_WORDS, ...REASONS]);
    const judged = literals.filter(({ text }) => !ALLOWED.has(text.toLowerCase()) && (words.has(text.toLowerCase()) || (/[a-z]{3}/i.test(text) && isPlaceholder(text))));
    expect(judged.map(({ file, text }) => `${file}: "${text}"`)).toEqual([]);
    const judges = sources.flatMap(({ file, code }) => [...code.matchAll(/\b(IsPlaceholder|NameLooksVirtual|DescriptionLooksVirtual|IsLocallyAdministered|CanonicalMac|placeholder)\b/g)].map((m) => `${file}: ${m[1]}`));
    expect(judges).toEqual([]);
  });
});
