/**
 * Physical-adapter filtering: the rules on a sysfs tree built by the test (both the addon and the
 * JavaScript fallback), the rule lists compiled into the addon against the TypeScript ones, and
 * real virtual adapters of every kind the kernel offers in a network namespace made by the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../src/node/native.js';
import { linuxAdapterReport, linuxAdapters } from '../src/node/fingerprint/fallback.js';
import { VIRTUAL_DESCRIPTION_WORDS, VIRTUAL_NAME_PREFIXES, isPlaceholder } from '../src/node/fingerprint/rules.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const addon = loadNative();

interface FakeIf {
  device?: boolean;
  type?: string;
  assign?: string;
  address?: string;
  uevent?: string;
  extra?: string[]; // sub-directories such as bridge, bonding, tun_flags, device/physfn
  driver?: string;
}

/** A fake /sys/class/net with the files the rules read. */
function fakeSysfs(ifs: Record<string, FakeIf>): string {
  const root = mkdtempSync(join(tmpdir(), 'licit-sysfs-'));
  const devices = join(root, '..', `${root.split('/').pop()}-devices`);
  for (const [name, f] of Object.entries(ifs)) {
    const base = join(root, name);
    mkdirSync(base);
    writeFileSync(join(base, 'type'), `${f.type ?? '1'}\n`);
    writeFileSync(join(base, 'addr_assign_type'), `${f.assign ?? '0'}\n`);
    writeFileSync(join(base, 'address'), `${f.address ?? '00:00:00:00:00:00'}\n`);
    writeFileSync(join(base, 'uevent'), `INTERFACE=${name}\nIFINDEX=2\n${f.uevent ?? ''}`);
    if (f.device !== false) {
      const dev = join(devices, name);
      mkdirSync(dev, { recursive: true });
      symlinkSync(dev, join(base, 'device'));
      if (f.driver !== undefined) {
        mkdirSync(join(devices, 'drivers', f.driver), { recursive: true });
        symlinkSync(join(devices, 'drivers', f.driver), join(dev, 'driver'));
      }
    }
    for (const x of f.extra ?? []) mkdirSync(join(base, x), { recursive: true });
  }
  return root;
}

const FAKE: Record<string, FakeIf> = {
  eth0: { address: '52:54:00:12:34:56' }, // physical, permanent
  enp3s0: { address: '02:FC:00:00:00:01', driver: 'virtio_net' }, // locally administered but permanent: counts
  wlp2s0: { address: '3c:97:0e:aa:bb:cc', uevent: 'DEVTYPE=wlan\n', driver: 'iwlwifi' }, // Wi-Fi counts
  wlan0: { address: '3c:97:0e:aa:bb:cd', uevent: 'DEVTYPE=wlan\n', assign: '1' }, // randomised
  eth1: { address: '00:1b:21:00:00:01', device: false }, // no device: veth, bridge, tun, ...
  eth2: { address: '00:1b:21:00:00:02', extra: ['bridge'] },
  eth3: { address: '00:1b:21:00:00:03', uevent: 'DEVTYPE=vlan\n' },
  eth4: { address: '00:1b:21:00:00:04', extra: ['tun_flags'] },
  eth5: { address: '00:1b:21:00:00:05', extra: ['device/physfn'] }, // SR-IOV VF
  eth6: { address: '00:1b:21:00:00:06', driver: 'veth' },
  eth7: { address: '00:1b:21:00:00:07', assign: '3' }, // user-set, no permanent address known
  eth8: { address: '00:1b:21:00:00:08', assign: '2' }, // stolen
  eth9: { address: '00:1b:21:00:00:09', type: '772' },
  eth10: { address: '00:00:00:00:00:00' },
  eth11: { address: '01:00:5e:00:00:01' }, // multicast
  docker0: { address: '00:1b:21:00:00:0c' },
  vboxnet0: { address: '0a:00:27:00:00:00' },
  eth12: { address: '00:1b:21:00:00:0d', uevent: 'DEVTYPE=bond\n', extra: ['bonding'] },
};
/** The first rule that leaves each one out (docs/fingerprint.md lists them in this order). */
const REASONS: Record<string, string> = {
  wlan0: 'random-address',
  eth1: 'no-device',
  eth2: 'bridge',
  eth3: 'virtual-devtype',
  eth4: 'tun-tap',
  eth5: 'sriov-vf',
  eth6: 'virtual-driver',
  eth7: 'user-set-address',
  eth8: 'stolen-address',
  eth9: 'not-ethernet',
  eth10: 'no-usable-address',
  eth11: 'no-usable-address',
  docker0: 'virtual-name',
  vboxnet0: 'virtual-name',
  eth12: 'bond',
};
const EXPECTED = [
  { name: 'enp3s0', mac: '02:fc:00:00:00:01', origin: 'current' },
  { name: 'eth0', mac: '52:54:00:12:34:56', origin: 'current' },
  { name: 'wlp2s0', mac: '3c:97:0e:aa:bb:cc', origin: 'current' },
];

describe('adapter rules on a sysfs tree', () => {
  const root = fakeSysfs(FAKE);
  const byName = (a: Array<{ name: string }>) => [...a].sort((x, y) => (x.name < y.name ? -1 : 1));

  it('the JavaScript fallback reports exactly the physical adapters', () => {
    expect(byName(linuxAdapters(root))).toEqual(EXPECTED);
  });

  it.runIf(addon !== undefined)('the addon reports exactly the same', () => {
    expect(byName(addon!.networkAdapters(root))).toEqual(EXPECTED);
  });

  it('each adapter left out is left out by the rule meant for it (fallback and addon)', () => {
    const reasons = (r: Array<{ name: string; reason: string }>) => Object.fromEntries(r.map((x) => [x.name, x.reason]));
    expect(reasons(linuxAdapterReport(root).rejected)).toEqual(REASONS);
    if (addon !== undefined) {
      const report = addon.adapterReport(root);
      expect(reasons(report.rejected)).toEqual(REASONS);
      expect(byName(report.adapters)).toEqual(EXPECTED);
    }
  });

  it.runIf(addon !== undefined && process.platform === 'linux')('a user-set address (addr_assign_type 3) is replaced by the permanent one the driver reports (addon only)', (ctx) => {
    // The permanent address comes from the ethtool ioctl on the interface of that name, so the fake
    // entry borrows the name of a real physical adapter here and claims a user-set current address.
    const real = addon!.networkAdapters().find((a) => a.origin === 'current');
    if (real === undefined) {
      if (process.env.CI) throw new Error('no physical adapter on this CI machine to borrow');
      ctx.skip('no physical network adapter here to read a permanent address from');
      return;
    }
    const root = fakeSysfs({ [real.name]: { address: '00:1b:21:00:00:99', assign: '3' } });
    expect(addon!.networkAdapters(root)).toEqual([{ name: real.name, mac: real.mac, origin: 'permanent' }]);
    // The fallback has no ioctl: it leaves the adapter out rather than use the user's address.
    expect(linuxAdapterReport(root)).toEqual({ adapters: [], rejected: [{ name: real.name, reason: 'user-set-address' }] });
  });

  it.runIf(addon !== undefined && process.platform === 'linux')('this machine: the addon and the fallback agree', () => {
    expect(byName(addon!.networkAdapters())).toEqual(byName(linuxAdapters()));
  });
});

describe('rule lists', () => {
  const cc = readFileSync(join(ROOT, 'native/src/adapters.cc'), 'utf8');
  const list = (name: string) => {
    const body = new RegExp(`${name}\\[\\] = \\{([^}]*)\\}`).exec(cc)?.[1] ?? '';
    return [...body.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  };

  it('the addon and the fallback use the same virtual-adapter keywords', () => {
    expect(list('kNamePrefixes')).toEqual(VIRTUAL_NAME_PREFIXES);
    expect(list('kDescriptionWords')).toEqual(VIRTUAL_DESCRIPTION_WORDS);
  });

  it.runIf(addon !== undefined)('the addon and the fallback agree on placeholders', () => {
    // A type 2 structure whose serial is the text under test; the addon marks placeholders.
    const nativeSays = (s: string) => {
      const text = Buffer.from(s, 'utf8');
      const table = Buffer.concat([Buffer.from([2, 8, 0, 0, 0, 0, 0, 1]), text, Buffer.from([0, 0])]);
      const r = addon!.parseSmbios(table, 'table', 3, 0);
      if (r.table?.baseboard.serial === undefined) return undefined; // an empty string is no string
      return r.table.placeholders.includes('baseboard.serial');
    };
    const known = ['To Be Filled By O.E.M.', 'Default string', '0', 'None', 'Not Specified', '0123456789', 'PC131TBF', 'x.x', 'Base Board Serial Number', 'VM147S018307', '  ', '...', '\tNone\t', 'ÉÉÉÉ', 'ıııı', 'É', 'UN\u212ANOWN'];
    for (const s of known) expect(nativeSays(s), s).toBe(isPlaceholder(s));
    fc.assert(
      // Control characters, non-ASCII letters (É, dotless ı, the Kelvin sign that lower-cases to
      // "k" in Unicode) and ASCII: the two must agree byte for byte, not only on plain ASCII.
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcDEF .-xXnoeNOE\t\x7fÉıK\u212A'), minLength: 1, maxLength: 12 }), (s) => {
        expect(nativeSays(s)).toBe(isPlaceholder(s));
      }),
      { numRuns: 400 },
    );
  });
});

// --- real virtual adapters in a network namespace ------------------------------------------

const NS = `licit-t${process.pid}`;
const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
let nsMade = false;

afterAll(() => {
  if (nsMade) ip('netns', 'del', NS);
});

describe('virtual adapters in a network namespace', () => {
  it('none of veth, bridge, tun, tap, vxlan and ifb adapters with ordinary names and vendor MACs is reported', (ctx) => {
    if (process.platform !== 'linux') return ctx.skip('network namespaces are Linux only');
    const add = ip('netns', 'add', NS);
    if (add.error !== undefined || add.status !== 0) {
      return ctx.skip(`cannot make a network namespace (${add.error?.message ?? add.stderr.trim()}): needs iproute2 and root/CAP_SYS_ADMIN`);
    }
    nsMade = true;
    const n = (...args: string[]) => {
      const r = ip('-n', NS, ...args);
      expect(r.status, `ip -n ${NS} ${args.join(' ')}: ${r.stderr}`).toBe(0);
    };
    // Ordinary-looking names and real vendors' OUIs (Intel, Dell, Supermicro, VMware, HP, ...).
    n('link', 'add', 'eth1', 'address', '00:1b:21:aa:bb:01', 'type', 'veth', 'peer', 'name', 'enp0s25', 'address', '3c:97:0e:aa:bb:02');
    n('link', 'add', 'eno1', 'address', '00:25:90:aa:bb:03', 'type', 'bridge');
    n('tuntap', 'add', 'dev', 'enp2s0', 'mode', 'tun');
    n('tuntap', 'add', 'dev', 'ens3', 'mode', 'tap');
    n('link', 'set', 'ens3', 'address', '00:50:56:aa:bb:04');
    n('link', 'add', 'eth2', 'address', 'f4:8e:38:aa:bb:05', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '127.0.0.1');
    n('link', 'add', 'eth3', 'address', 'a4:bb:6d:aa:bb:06', 'type', 'ifb');
    n('link', 'add', 'em1', 'type', 'veth', 'peer', 'name', 'em2'); // kernel-random addresses
    for (const dev of ['eth1', 'enp0s25', 'eno1', 'enp2s0', 'ens3', 'eth2', 'eth3', 'em1', 'em2']) n('link', 'set', dev, 'up');

    // `ip netns exec` remounts /sys for the namespace, so the child sees these adapters.
    const native = fileURLToPath(new URL('../src/node/native.ts', import.meta.url));
    const fallback = fileURLToPath(new URL('../src/node/fingerprint/fallback.ts', import.meta.url));
    const code = `const { readdirSync } = await import('node:fs');
const { loadNative } = await import(${JSON.stringify(native)});
const { linuxAdapters } = await import(${JSON.stringify(fallback)});
const a = loadNative();
const { linuxAdapterReport } = await import(${JSON.stringify(fallback)});
console.log(JSON.stringify({ visible: readdirSync('/sys/class/net').sort(), native: a ? a.adapterReport() : null, host: a ? a.hostIdentity().adapters : null, fallback: linuxAdapterReport(), plain: linuxAdapters() }));`;
    const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    type Report = { adapters: unknown[]; rejected: Array<{ name: string; reason: string }> };
    const out = JSON.parse(r.stdout) as { visible: string[]; native: Report | null; host: unknown[] | null; fallback: Report; plain: unknown[] };
    // The adapters exist where the code looked...
    expect(out.visible).toEqual(['em1', 'em2', 'eno1', 'enp0s25', 'enp2s0', 'ens3', 'eth1', 'eth2', 'eth3', 'lo']);
    // ...and none of them is reported, each for lack of a device behind it (the first rule, not
    // merely because its address was set by hand or random).
    const expected = ['em1', 'em2', 'eno1', 'enp0s25', 'enp2s0', 'ens3', 'eth1', 'eth2', 'eth3'].map((name) => ({ name, reason: 'no-device' }));
    expected.push({ name: 'lo', reason: 'loopback' });
    const sorted = (x: Array<{ name: string; reason: string }>) => [...x].sort((p, q) => (p.name < q.name ? -1 : 1));
    expect(out.plain).toEqual([]);
    expect(out.fallback.adapters).toEqual([]);
    expect(sorted(out.fallback.rejected)).toEqual(expected);
    if (addon !== undefined) {
      expect(out.native!.adapters).toEqual([]);
      expect(sorted(out.native!.rejected)).toEqual(expected);
      expect(out.host).toEqual([]);
    }
  });
});
