/**
 * The server's alert checks remember a license that has no thresholds: most licenses have none,
 * and without the memory every renewal that reports consumption would cost a store read after
 * it. A settings change made through the server is seen at once; `unsetCacheMs: 0` reads every time.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { Store } from '../src/core/store/store.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();

/** A MemoryStore counting the snapshot reads of one license. */
function countingStore(licenseId: string): { store: Store; reads: () => number } {
  const base = new MemoryStore();
  let n = 0;
  const store = Object.create(base) as Store;
  store.read = (id, fn) => {
    if (id === licenseId) n++;
    return base.read(id, fn);
  };
  return { store, reads: () => n };
}

describe('alert checks of a license without thresholds', () => {
  it('read its settings once, not after every change, until a settings change', async () => {
    const { store, reads } = countingStore('LIC-A');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store, accessLog: false, portal: false });
    const alerts = server.alerts!;
    const consumed = new Set(['credits.consumed']);
    for (let i = 0; i < 3; i++) {
      alerts.notify('LIC-A', consumed);
      await alerts.idle();
    }
    expect(reads()).toBe(1);
    alerts.notify('LIC-A', new Set(['settings.changed']));
    await alerts.idle();
    expect(reads()).toBe(2);
    alerts.notify('LIC-A', consumed);
    await alerts.idle();
    expect(reads()).toBe(2);
    // Kinds that cannot move a figure schedule nothing at all.
    alerts.notify('LIC-A', new Set(['device.renamed']));
    await alerts.idle();
    expect(reads()).toBe(2);
    await store.close();
  });

  it('with unsetCacheMs: 0, read after every change', async () => {
    const { store, reads } = countingStore('LIC-B');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store, accessLog: false, portal: false, alerts: { unsetCacheMs: 0 } });
    for (let i = 0; i < 3; i++) {
      server.alerts!.notify('LIC-B', new Set(['credits.consumed']));
      await server.alerts!.idle();
    }
    expect(reads()).toBe(3);
    await store.close();
  });
});
