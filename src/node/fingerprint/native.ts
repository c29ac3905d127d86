/**
 * Loader for the optional C++ addon (`native/`): a local build in `build/` if there is one, else the
 * prebuilt binary shipped in `prebuilds/<platform>-<arch>/`. licit has no install script, so
 * nothing is compiled at install time; `npm explore licit -- npm run build:native` builds it.
 *
 * Two ways to ask for it, in the style of sharp's loader:
 * - {@link loadNative} returns the addon or `undefined`, quietly: callers fall back to JavaScript
 *   (fingerprint `source: "fallback"`, lock-file locks).
 * - {@link requireNative} throws one `ERR_NATIVE_UNAVAILABLE` error that lists what was tried and
 *   what to do, for callers that asked for the native source explicitly.
 *
 * Setting the environment variable `LICIT_NO_NATIVE=1` makes the addon count as missing, so the
 * fallbacks can be tested and forced in production.
 *
 * Bundled and packaged applications (esbuild, webpack, Electron's asar, single-file binaries) move
 * licit's code away from its `prebuilds/` directory. They point licit at the `.node` file they
 * ship with `LICIT_NATIVE_PATH=/path/to/node.napi.node` or {@link setNativeAddonPath}; that file
 * is then tried first (see docs/fingerprint.md, "Packaged applications").
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LicenseError } from '../../core/errors.js';
import type { InterfaceFacts, NativeCpu, SmbiosFacts } from '../../core/fingerprint/facts.js';

/**
 * The ABI of the addon this code was written against; a mismatched build is treated as missing.
 * 2: the addon reports facts only (`networkInterfaces`, SMBIOS without `placeholders`); the rules
 * that judge them are TypeScript's (`src/core/fingerprint/`). 1 judged adapters in C++.
 */
export const NATIVE_ABI_VERSION = 2;

/** The addon's data shapes are the fingerprint model's facts (`src/core/fingerprint/facts.ts`). */
export type {
  NativeAdapter,
  SmbiosInfo,
  SmbiosFacts,
  NativeCpu,
  InterfaceFacts,
  LinuxInterfaceFacts,
  WindowsInterfaceFacts,
  MacInterfaceFacts,
} from '../../core/fingerprint/facts.js';

/** Everything the addon reads about this machine in one call: facts, none of them judged. */
export interface NativeHostIdentity {
  /** `"sysfs-table"`, `"sysfs-dmi-id"` (partial: not root), `"rsmb"`, `"iokit"` or `"none"`. */
  readonly smbiosSource: string;
  /** Decoded SMBIOS strings, or `null` when none could be read (`smbiosSource` is `"none"`). */
  readonly smbios: SmbiosFacts | null;
  /** CPU identity. */
  readonly cpu: NativeCpu;
  /** Every network interface with its facts, as {@link NativeAddon.networkInterfaces} returns them. */
  readonly interfaces: readonly InterfaceFacts[];
  /** `/etc/machine-id`, Windows MachineGuid or macOS IOPlatformUUID; `""` when unavailable. */
  readonly machineId: string;
}

/**
 * The typed surface of `licit_native.node`. Every function is synchronous and cheap. It reports
 * facts; `classifyHostFacts` and `judgeInterfaces` (`src/core/fingerprint/`) judge them, exactly as
 * they judge the JavaScript fallback's.
 */
export interface NativeAddon {
  /** ABI of the build; must equal `NATIVE_ABI_VERSION` for the loader to accept it. */
  readonly abiVersion: number;
  /** Try to take an exclusive `flock` / `LockFileEx` lock: 0 taken, 1 busy, negative errno otherwise. */
  lockFd(fd: number): number;
  /** Release a lock taken by {@link NativeAddon.lockFd}: 0 or negative errno. */
  unlockFd(fd: number): number;
  /**
   * Decode SMBIOS bytes: a `dmidecode --dump-bin` file (`"dump"`) or a bare structure table
   * (`"table"`, with the version when known). Status is `"ok"` or the reason it failed. Strings
   * come as they stand; `decodeSmbios` adds the placeholders.
   */
  parseSmbios(bytes: Uint8Array, kind: 'dump' | 'table', major?: number, minor?: number): {
    /** `"ok"`, or a short reason such as `"no-entry-point"`, `"bad-entry-point"`, `"table-out-of-range"`, `"empty-table"`. */
    status: string;
    /** The decoded table; present only when `status` is `"ok"`. */
    table?: SmbiosFacts;
  };
  /**
   * Every network interface with its facts (Linux: sysfs entries and the ethtool permanent
   * address; Windows: `GetAdaptersAddresses` and `GetIfEntry2`; macOS: `getifaddrs` link entries),
   * each tagged with `os`. `sysfsNetRoot` replaces `/sys/class/net` (Linux, for tests).
   */
  networkInterfaces(sysfsNetRoot?: string): InterfaceFacts[];
  /** SMBIOS, CPU, network interfaces and machine id in one call. */
  hostIdentity(sysfsNetRoot?: string): NativeHostIdentity;
}

/** Where the loader looked and why it failed; `undefined` while nothing failed. */
let failure: { tried: string; error: string } | undefined;
let cached: NativeAddon | null | undefined;
/** Set by {@link setNativeAddonPath}; wins over `LICIT_NATIVE_PATH`. */
let explicitPath: string | undefined;

/**
 * Load the addon from this file (a bundled or packaged application's copy of
 * `prebuilds/<platform>-<arch>/node.napi*.node`) instead of looking beside licit's code. Call it
 * before the first fingerprint or lock; the environment variable `LICIT_NATIVE_PATH` does the
 * same without code. If the file does not load, licit says why (in the fallback warning and in
 * `nativeLoadError()`) and goes on looking in its own directories.
 *
 * @example
 * ```ts
 * // Electron, with "asarUnpack": ["node_modules/licit/prebuilds/**"]
 * setNativeAddonPath(path.join(process.resourcesPath, 'app.asar.unpacked/node_modules/licit/prebuilds/win32-x64/node.napi.node'))
 * ```
 */
export function setNativeAddonPath(path: string): void {
  if (typeof path !== 'string' || path === '') throw new LicenseError('ERR_USAGE', 'setNativeAddonPath needs the path of the licit .node file');
  explicitPath = path;
  cached = undefined;
  failure = undefined;
}

function configuredPath(): string | undefined {
  const v = explicitPath ?? process.env.LICIT_NATIVE_PATH;
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The licit package's root: the nearest folder above this module whose package.json is licit's.
 * Searched, not counted: this module sits at one depth in src/ and dist/ and at another inside the
 * CommonJS bundle of `licit fingerprint` (dist/cli/fingerprint.cjs).
 */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'licit') return dir;
    } catch {
      /* no package.json here, or not JSON: look higher */
    }
  }
  return resolve(here, '../../..');
}

function disabledByEnv(): boolean {
  const v = process.env.LICIT_NO_NATIVE;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function isAddon(m: unknown): m is NativeAddon {
  const a = m as Partial<NativeAddon> | null;
  return typeof a === 'object' && a !== null && a.abiVersion === NATIVE_ABI_VERSION && typeof a.lockFd === 'function' && typeof a.hostIdentity === 'function' && typeof a.networkInterfaces === 'function';
}

/**
 * The native addon, or `undefined` when it is missing, disabled with `LICIT_NO_NATIVE=1`, or of
 * another ABI. Loaded once per process; never throws.
 *
 * @example
 * ```ts
 * const addon = loadNative();
 * const source = addon ? 'native' : 'fallback';
 * ```
 */
export function loadNative(): NativeAddon | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const root = packageRoot();
  if (disabledByEnv()) {
    failure = { tried: 'nothing', error: 'LICIT_NO_NATIVE is set in the environment' };
    cached = null;
    return undefined;
  }
  const require = createRequire(import.meta.url);
  const configured = configuredPath();
  let configuredError = '';
  if (configured !== undefined) {
    try {
      const mod: unknown = require(configured);
      if (isAddon(mod)) {
        cached = mod;
        return mod;
      }
      configuredError = `${configured} is not this licit's addon (ABI ${String((mod as { abiVersion?: unknown })?.abiVersion)}, needs ${NATIVE_ABI_VERSION}); `;
    } catch (e) {
      configuredError = `${configured} (LICIT_NATIVE_PATH or setNativeAddonPath) did not load: ${String((e as Error).message).replace(/\s+/g, ' ').trim()}; `;
    }
  }
  try {
    let mod: unknown;
    // Fast path: the local build, which node-gyp-build would also pick first; skipping its
    // package.json read and directory scans saves a few milliseconds of every cold start.
    if (process.env.PREBUILDS_ONLY === undefined) {
      try {
        mod = require(join(root, 'build', 'Release', 'licit_native.node'));
      } catch {
        mod = undefined;
      }
    }
    if (mod === undefined) mod = (require('node-gyp-build') as (dir: string) => unknown)(root);
    if (!isAddon(mod)) {
      failure = {
        tried: `${configured === undefined ? '' : `${configured}, `}${join(root, 'build', 'Release')}, ${join(root, 'prebuilds')}`,
        error: `${configuredError}the addon found has ABI ${String((mod as { abiVersion?: unknown })?.abiVersion)}, this licit needs ${NATIVE_ABI_VERSION} (a stale build)`,
      };
      cached = null;
    } else {
      cached = mod;
      // Asked for a file that did not load, yet an addon was found elsewhere: say so once.
      if (configuredError !== '') process.emitWarning(`licit: ${configuredError}using the addon beside licit's code instead`, { code: 'LICIT_NATIVE_PATH' });
    }
  } catch (e) {
    failure = {
      tried: `${configured === undefined ? '' : `${configured}, `}${join(root, 'build', 'Release')}, ${join(root, 'build', 'Debug')}, ${join(root, 'prebuilds', `${process.platform}-${process.arch}`)}`,
      error: configuredError + String((e as Error).message).replace(/\s+/g, ' ').trim(),
    };
    cached = null;
  }
  return cached ?? undefined;
}

/** The command that compiles the addon in a project that depends on licit (licit has no install script). */
export const NATIVE_BUILD_COMMAND = 'npm explore licit -- npm run build:native';

let fallbackWarned = false;

/**
 * Say once per process, as a Node warning (code `LICIT_NATIVE_FALLBACK`), that the addon did not
 * load and the JavaScript fallback is in use, with the reason and the command that builds it.
 * Silent when the addon loaded or `LICIT_NO_NATIVE` asked for the fallback.
 */
export function warnNativeFallback(what: string): void {
  if (fallbackWarned || loadNative() !== undefined || disabledByEnv()) return;
  fallbackWarned = true;
  process.emitWarning(
    `licit: the native addon is not available for ${process.platform}-${process.arch}, so ${what} uses the JavaScript fallback ` +
      `(fingerprint source "fallback": fewer hardware facts; lock files instead of flock). Reason: ${nativeLoadError() ?? 'unknown'}. ` +
      `To build the addon, install python3, make and a C++17 compiler, then run \`${NATIVE_BUILD_COMMAND}\`. ` +
      'A bundled or packaged application points licit at the .node file it ships with LICIT_NATIVE_PATH or setNativeAddonPath() (docs/fingerprint.md). ' +
      'Set LICIT_NO_NATIVE=1 to use the fallback without this warning.',
    { code: 'LICIT_NATIVE_FALLBACK' },
  );
}

/** Why {@link loadNative} returned `undefined` (one line), or `undefined` if it loaded. */
export function nativeLoadError(): string | undefined {
  loadNative();
  return failure === undefined ? undefined : `${failure.error} (looked in ${failure.tried})`;
}

/**
 * The native addon, or a `LicenseError('ERR_NATIVE_UNAVAILABLE')` that says what was tried and
 * what to do. Use where the caller asked for native behaviour explicitly, or where only the addon
 * can do the job: then pass `onlyNative`, what needs it (e.g. `"Decoding an SMBIOS dump"`), and
 * the message says there is no JavaScript fallback instead of suggesting one.
 *
 * @example
 * ```ts
 * const addon = requireNative(); // throws with instructions when the build is missing
 * ```
 */
export function requireNative(onlyNative?: string): NativeAddon {
  const addon = loadNative();
  if (addon !== undefined) return addon;
  const f = failure ?? { tried: 'nothing', error: 'unknown' };
  const where = `${process.platform}-${process.arch}, Node ${process.versions.node} (ABI ${process.versions.modules})`;
  throw new LicenseError(
    'ERR_NATIVE_UNAVAILABLE',
    [
      onlyNative === undefined
        ? `The licit native addon could not be loaded for ${where}.`
        : `${onlyNative} needs the licit native addon (there is no JavaScript fallback), and it could not be loaded for ${where}.`,
      `Tried: ${f.tried}.`,
      `Reason: ${f.error}.`,
      'Possible solutions:',
      '- Unset LICIT_NO_NATIVE if it is set.',
      `- Build it: install python3, make and a C++17 compiler, then run \`${NATIVE_BUILD_COMMAND}\` in your project (\`npm run build:native\` in a clone of licit).`,
      ...(onlyNative === undefined ? ['- Or use the JavaScript fallback by not asking for the native source.'] : []),
    ].join('\n'),
    { platform: process.platform, arch: process.arch, tried: f.tried },
  );
}
