/**
 * Where ledger files live by default, following each platform's conventions for application data
 * (what the `env-paths` package does, written out here to avoid a dependency), and the file names.
 *
 * The primary sits in the application's data directory. The mirror sits in a second, less obvious
 * place under a name derived from the secret, so clearing the data directory (or a cleaner that
 * wipes it) leaves the mirror behind. Hidden is not secret: anyone can trace file access; the
 * mirror defends against accidents and casual resets, the vendor floor against the rest.
 */
import { sha256Digest as sha256 } from '../crypto/digest.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { concatBytes, toHex, utf8 } from '../../core/codec/bytes.js';

/** The environment bits {@link defaultLedgerDirs} reads (injectable for tests). */
export interface PlatformInfo {
  /** The OS (`process.platform`). */
  readonly platform: NodeJS.Platform;
  /** Environment variables (`process.env`): `XDG_*`, `LOCALAPPDATA`, `APPDATA`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory (`os.homedir()`). */
  readonly home: string;
}

const current = (): PlatformInfo => ({ platform: process.platform, env: process.env, home: homedir() });

/**
 * Default primary and mirror directories for an application name.
 *
 * | platform | primary (data)                              | mirror (less obvious)                      |
 * |----------|---------------------------------------------|--------------------------------------------|
 * | Linux    | `$XDG_DATA_HOME/<app>` (`~/.local/share`)   | `$XDG_STATE_HOME/.<hash>` (`~/.local/state`) |
 * | macOS    | `~/Library/Application Support/<app>`       | `~/Library/Preferences/.<hash>`            |
 * | Windows  | `%LOCALAPPDATA%\<app>\Data`                 | `%APPDATA%\.<hash>` (roaming profile)      |
 *
 * @example
 * ```ts
 * defaultLedgerDirs('acme-cad') // { dir: '/home/ann/.local/share/acme-cad/licit', mirrorDir: '/home/ann/.local/state/.3f1c…' }
 * ```
 */
export function defaultLedgerDirs(
  appName: string,
  info: PlatformInfo = current(),
): {
  /** Directory of the primary copy (the application's data directory). */
  dir: string;
  /** Directory of the mirror copy (a hidden, per-application directory elsewhere). */
  mirrorDir: string;
} {
  const { platform, env, home } = info;
  const hidden = `.${toHex(sha256(utf8(`licit-mirror-dir\0${appName}`))).slice(0, 12)}`;
  if (platform === 'darwin') {
    const lib = join(home, 'Library');
    return { dir: join(lib, 'Application Support', appName, 'licit'), mirrorDir: join(lib, 'Preferences', hidden) };
  }
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA || join(home, 'AppData', 'Local');
    const roaming = env.APPDATA || join(home, 'AppData', 'Roaming');
    return { dir: join(local, appName, 'Data', 'licit'), mirrorDir: join(roaming, hidden) };
  }
  const data = env.XDG_DATA_HOME || join(home, '.local', 'share');
  const state = env.XDG_STATE_HOME || join(home, '.local', 'state');
  return { dir: join(data, appName, 'licit'), mirrorDir: join(state, hidden) };
}

/** File names of one license's ledger: readable-ish for the primary, opaque for the mirror. */
export function ledgerFileNames(licenseId: string, secret: string | Uint8Array): { primary: string; mirror: string; lock: string; mirrorLock: string } {
  const id = toHex(sha256(concatBytes(utf8('licit-ledger-file\0'), utf8(licenseId)))).slice(0, 24);
  const s = typeof secret === 'string' ? utf8(secret) : secret;
  const hidden = toHex(sha256(concatBytes(utf8('licit-ledger-mirror\0'), s, utf8('\0'), utf8(licenseId)))).slice(0, 24);
  return { primary: `credits-${id}.ledger`, mirror: `.${hidden}.dat`, lock: `credits-${id}.lock`, mirrorLock: `.${hidden}.lock` };
}
