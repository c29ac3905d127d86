/** A throwaway vendor for tests: a key pair on disk and an `issue` shortcut. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, issueLicense } from '../../src/issuer/index.js';
import type { LicenseInput } from '../../src/core/license/claims.js';

export interface TestVendor {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly kid: string;
  /** Temp dir holding vendor.key and vendor.pub. */
  readonly dir: string;
  readonly keyPath: string;
  readonly pubPath: string;
  issue(input?: LicenseInput, now?: Date): Promise<string>;
}

export function makeVendor(): TestVendor {
  const pair = generateKeyPair();
  const dir = mkdtempSync(join(tmpdir(), 'licit-vendor-'));
  const keyPath = join(dir, 'vendor.key');
  const pubPath = join(dir, 'vendor.pub');
  writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(pubPath, pair.publicKeyPem);
  return {
    ...pair,
    dir,
    keyPath,
    pubPath,
    issue: (input = {}, now) => issueLicense(input, { signingKey: pair.privateKeyPem, ...(now ? { now } : {}) }),
  };
}
