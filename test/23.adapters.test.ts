/**
 * Physical-adapter filtering: the TypeScript judge (the only copy of the rules) on crafted facts of
 * every OS, the addon's and the JavaScript fallback's facts of a sysfs tree built by the test (the
 * same facts, judged the same), and real virtual adapters of every kind the kernel offers in a
 * network namespace made by the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../src/node/fingerprint/native.js';
import { linuxAdapterReport, linuxAdapters, linuxInterfaces } from '../src/node/fingerprint/fallback.js';
import { isPlaceholder } from '../src/node/fingerprint/rules.js';
import { judgeInterfaces, judgeLinuxInterface, judgeMacInterface, judgeOtherInterface, judgeWindowsInterface } from '../src/core/fingerprint/adapters.js';
import { classifySmbios, isPlaceholderProcessorId, isPlaceholderUuid } from '../src/core/fingerprint/placeholders.js';
import type { LinuxInterfaceFacts, MacInterfaceFacts, WindowsInterfaceFacts } from '../src/core/fingerprint/facts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const addon = loadNative();
/** The addon's facts judged by the TypeScript rules: what `licit fingerprint --adapters` shows. */
const nativeReport = (root?: string) => judgeInterfaces(addon!.networkInterfaces(root));
const nativeAdapters = (root?: string) => nativeReport(root).adapters;

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
    expect(byName(nativeAdapters(root))).toEqual(EXPECTED);
  });

  it.runIf(addon !== undefined)('the addon and the fallback read the same facts (the addon adds the ethtool permanent address)', () => {
    const native = byName(addon!.networkInterfaces(root)).map((f) => ({ ...f, permanentAddress: '' }));
    expect(native).toEqual(byName(linuxInterfaces(root)));
    expect(linuxInterfaces(root).find((f) => f.name === 'wlp2s0')).toMatchObject({ os: 'linux', hasDevice: true, type: '1', devtype: 'wlan', driver: 'iwlwifi', addrAssignType: '0', address: '3c:97:0e:aa:bb:cc' });
  });

  it('each adapter left out is left out by the rule meant for it (fallback and addon)', () => {
    const reasons = (r: Array<{ name: string; reason: string }>) => Object.fromEntries(r.map((x) => [x.name, x.reason]));
    expect(reasons(linuxAdapterReport(root).rejected)).toEqual(REASONS);
    if (addon !== undefined) {
      const report = nativeReport(root);
      expect(reasons(report.rejected)).toEqual(REASONS);
      expect(byName(report.adapters)).toEqual(EXPECTED);
    }
  });

  it.runIf(addon !== undefined && process.platform === 'linux')('a user-set address (addr_assign_type 3) is replaced by the permanent one the driver reports (addon only)', (ctx) => {
    // The permanent address comes from the ethtool ioctl on the interface of that name, so the fake
    // entry borrows the name of a real physical adapter here and claims a user-set current address.
    const real = nativeAdapters().find((a) => a.origin === 'current');
    if (real === undefined) {
      if (process.env.CI) throw new Error('no physical adapter on this CI machine to borrow');
      ctx.skip('no physical network adapter here to read a permanent address from');
      return;
    }
    const root = fakeSysfs({ [real.name]: { address: '00:1b:21:00:00:99', assign: '3' } });
    expect(nativeAdapters(root)).toEqual([{ name: real.name, mac: real.mac, origin: 'permanent' }]);
    // The fallback has no ioctl: it leaves the adapter out rather than use the user's address.
    expect(linuxAdapterReport(root)).toEqual({ adapters: [], rejected: [{ name: real.name, reason: 'user-set-address' }] });
  });

  it.runIf(addon !== undefined && process.platform === 'linux')('this machine: the addon and the fallback agree', () => {
    expect(byName(nativeAdapters())).toEqual(byName(linuxAdapters()));
  });
});

// --- the judge on crafted facts ---------------------------------------------------------------

/** A physical Intel NIC as sysfs shows it. */
const NIC: LinuxInterfaceFacts = {
  os: 'linux', name: 'enp0s31f6', hasDevice: true, type: '1', bridge: false, bonding: false, tunFlags: false, physfn: false,
  devtype: null, driver: 'e1000e', ifalias: '', addrAssignType: '0', address: '8c:16:45:aa:bb:cc', permanentAddress: '',
};

describe('the TypeScript judge on crafted facts', () => {
  const reason = (j: ReturnType<typeof judgeLinuxInterface> | undefined) => (j === undefined ? 'not listed' : 'reason' in j ? j.reason : 'kept');

  it('Linux: each rule gives its reason, and the first failing rule wins, in the documented order', () => {
    expect(judgeLinuxInterface(NIC)).toEqual({ adapter: { name: 'enp0s31f6', mac: '8c:16:45:aa:bb:cc', origin: 'current' } });
    // Each case also breaks every later rule, so only the order can pick the reason.
    const later: Partial<LinuxInterfaceFacts> = {};
    const cases: Array<[string, Partial<LinuxInterfaceFacts>]> = [
      ['unknown-address-type', { addrAssignType: '7' }],
      ['user-set-address', { addrAssignType: '3', permanentAddress: '' }],
      ['stolen-address', { addrAssignType: '2' }],
      ['random-address', { addrAssignType: '1' }],
      ['no-usable-address', { addrAssignType: '0', address: '01:00:5e:00:00:01' }],
      ['virtual-driver', { driver: 'veth' }],
      ['virtual-name', { name: 'docker0' }],
      ['virtual-devtype', { devtype: 'vlan' }],
      ['sriov-vf', { physfn: true }],
      ['tun-tap', { tunFlags: true }],
      ['bond', { bonding: true }],
      ['bridge', { bridge: true }],
      ['not-ethernet', { type: '772' }],
      ['no-device', { hasDevice: false }],
      ['loopback', { name: 'lo' }],
    ];
    for (const [want, change] of cases) {
      Object.assign(later, change);
      expect(reason(judgeLinuxInterface({ ...NIC, ...later })), want).toBe(want);
    }
  });

  it('Linux: the finer points of each rule', () => {
    const j = (over: Partial<LinuxInterfaceFacts>) => judgeLinuxInterface({ ...NIC, ...over });
    expect(reason(j({ devtype: 'wlan', name: 'wlp2s0', driver: 'iwlwifi' }))).toBe('kept'); // Wi-Fi counts
    expect(reason(j({ ifalias: 'WireGuard tunnel to the office' }))).toBe('virtual-driver');
    expect(reason(j({ addrAssignType: '' }))).toBe('kept'); // an older kernel without the file
    expect(reason(j({ address: '00:00:00:00:00:00' }))).toBe('no-usable-address');
    expect(j({ address: '02:FC:00:00:00:01' })).toEqual({ adapter: { name: 'enp0s31f6', mac: '02:fc:00:00:00:01', origin: 'current' } }); // locally administered but permanent
    expect(j({ addrAssignType: '3', permanentAddress: '8c:16:45:aa:bb:cd' })).toEqual({ adapter: { name: 'enp0s31f6', mac: '8c:16:45:aa:bb:cd', origin: 'permanent' } });
    expect(reason(j({ addrAssignType: '3', permanentAddress: '00:00:00:00:00:00' }))).toBe('user-set-address'); // veth, tun: no burned-in address
  });

  const WIN: WindowsInterfaceFacts = {
    os: 'win32', name: '{4D36E972-E325-11CE-BFC1-08002BE10318}', description: 'Intel(R) Ethernet Connection (4) I219-LM', friendlyName: 'Ethernet',
    ifType: 6, address: '8c:16:45:aa:bb:cc', ifEntry: true, hardwareInterface: true, filterInterface: false, permanentAddress: '8c:16:45:aa:bb:cc',
  };

  it('Windows: as host_win.cc judged before', () => {
    const j = (over: Partial<WindowsInterfaceFacts>) => judgeWindowsInterface({ ...WIN, ...over });
    expect(j({})).toEqual({ adapter: { name: WIN.name, mac: '8c:16:45:aa:bb:cc', origin: 'permanent' } });
    expect(reason(j({ ifType: 71 }))).toBe('kept'); // 802.11
    expect(reason(j({ ifType: 24, description: 'Software Loopback Interface 1' }))).toBe('not-ethernet');
    expect(reason(j({ address: '', ifType: 6, description: 'WAN Miniport (IP)' }))).toBe('no-usable-address');
    expect(reason(j({ address: '00:00:00:00:00:00:00:e0' }))).toBe('no-usable-address');
    expect(reason(j({ description: 'Hyper-V Virtual Ethernet Adapter', hardwareInterface: false }))).toBe('virtual-driver');
    expect(reason(j({ friendlyName: 'vEthernet (Default Switch)' }))).toBe('virtual-driver');
    expect(reason(j({ description: 'TAP-Windows Adapter V9' }))).toBe('virtual-driver');
    expect(reason(j({ hardwareInterface: false }))).toBe('no-device');
    expect(reason(j({ filterInterface: true }))).toBe('no-device');
    // The permanent address wins over a changed current one.
    expect(j({ address: '02:11:22:33:44:55' })).toEqual({ adapter: { name: WIN.name, mac: '8c:16:45:aa:bb:cc', origin: 'permanent' } });
    // Without a permanent one, a locally administered current address is Windows' random hardware address.
    expect(reason(j({ address: '02:11:22:33:44:55', permanentAddress: '' }))).toBe('random-address');
    expect(reason(j({ address: '02:11:22:33:44:55', ifEntry: false, hardwareInterface: false }))).toBe('random-address');
    expect(j({ ifEntry: false, hardwareInterface: false, permanentAddress: '' })).toEqual({ adapter: { name: WIN.name, mac: '8c:16:45:aa:bb:cc', origin: 'current' } });
    expect(reason(j({ address: '01:00:5e:00:00:01', permanentAddress: '' }))).toBe('no-usable-address');
  });

  it('macOS: as host_mac.cc judged before; non-Ethernet link entries are not listed', () => {
    const MAC: MacInterfaceFacts = { os: 'darwin', name: 'en0', ether: true, address: 'a4:83:e7:11:22:33' };
    const j = (over: Partial<MacInterfaceFacts>) => judgeMacInterface({ ...MAC, ...over });
    expect(j({})).toEqual({ adapter: { name: 'en0', mac: 'a4:83:e7:11:22:33', origin: 'current' } });
    expect(reason(j({ ether: false, name: 'gif0', address: '' }))).toBe('not listed');
    expect(reason(j({ address: '' }))).toBe('not listed');
    expect(reason(j({ name: 'bridge0' }))).toBe('virtual-name');
    expect(reason(j({ name: 'utun3' }))).toBe('virtual-name');
    expect(reason(j({ address: '00:00:00:00:00:00' }))).toBe('no-usable-address');
    expect(reason(j({ address: '3e:22:fb:11:22:33' }))).toBe('random-address'); // private Wi-Fi address
  });

  it('the fallback off Linux (os.networkInterfaces): virtual names and random addresses left out, one entry per MAC', () => {
    expect(reason(judgeOtherInterface({ os: 'other', name: 'Ethernet', address: '8c:16:45:aa:bb:cc' }))).toBe('kept');
    expect(reason(judgeOtherInterface({ os: 'other', name: 'lo', address: '' }))).toBe('no-usable-address');
    expect(reason(judgeOtherInterface({ os: 'other', name: 'utun2', address: '8c:16:45:aa:bb:cc' }))).toBe('virtual-name');
    expect(reason(judgeOtherInterface({ os: 'other', name: 'en0', address: '3e:22:fb:11:22:33' }))).toBe('random-address');
    const twice = judgeInterfaces([{ os: 'other', name: 'en0', address: '8c:16:45:aa:bb:cc' }, { os: 'other', name: 'en1', address: '8c:16:45:AA:BB:CC' }]);
    expect(twice.adapters).toEqual([{ name: 'en0', mac: '8c:16:45:aa:bb:cc', origin: 'current' }]);
  });
});

describe('placeholders (the TypeScript rule, for the addon and the fallback alike)', () => {
  it('recognises filler and keeps real serials', () => {
    const fillers = ['To Be Filled By O.E.M.', 'To be filled by O.E.M.', 'Default string', '0', 'None', 'Not Specified', 'System Serial Number', '0123456789', 'FFFFFFFF', '  ', '', 'BSN12345678901234567', 'Chassis Serial Number', '........', 'N/A', 'x.x', '\tNone\t'];
    for (const f of fillers) expect(isPlaceholder(f), f).toBe(true);
    // Only an ASCII character repeated is filler ("ÉÉÉÉ", a repeated dotless i are values).
    for (const r of ['PC131TBF', 'FCN0CJ03468352B     ', 'L1HF9380025', 'VM147S018307', '9000116105', '1.0', 'X399 AORUS XTREME', 'ÉÉÉÉ', 'ıı']) expect(isPlaceholder(r), r).toBe(false);
  });

  it('UUIDs and processor ids of all-00 or all-FF bytes are filler, whatever the reader', () => {
    for (const u of ['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'None']) expect(isPlaceholderUuid(u), u).toBe(true);
    for (const u of ['161674cc-2a1e-11b2-a85c-e121881d01b9', '00000000-0000-0000-0000-0cc47a133878']) expect(isPlaceholderUuid(u), u).toBe(false);
    expect(isPlaceholderProcessorId('00 00 00 00 00 00 00 00')).toBe(true);
    expect(isPlaceholderProcessorId('FF FF FF FF FF FF FF FF')).toBe(true);
    expect(isPlaceholderProcessorId('E4 06 03 00 FF FB EB BF')).toBe(false);
    const info = classifySmbios({
      version: '3.0.0', structures: 5,
      system: { manufacturer: 'LENOVO', serial: 'PC131TBF', uuid: '00000000-0000-0000-0000-000000000000' },
      baseboard: { serial: 'Default string' },
      chassis: { serial: 'To Be Filled By O.E.M.' },
      processors: [{ socket: 'CPU0', id: '00 00 00 00 00 00 00 00', populated: false }, { socket: 'Not Specified', id: 'E4 06 03 00 FF FB EB BF', populated: true }],
    });
    expect(info.placeholders).toEqual(['system.uuid', 'baseboard.serial', 'chassis.serial', 'processors.0.id', 'processors.1.socket']);
  });

  it.runIf(addon !== undefined)('a text decoded by the addon (control bytes shown as dots) is judged as the raw text sysfs gives', () => {
    // A type 2 structure whose serial is the text under test; decodeSmbios's classification of the
    // addon's text must equal isPlaceholder of the raw bytes, byte for byte.
    const nativeSays = (s: string) => {
      const text = Buffer.from(s, 'utf8');
      const table = Buffer.concat([Buffer.from([2, 8, 0, 0, 0, 0, 0, 1]), text, Buffer.from([0, 0])]);
      const r = addon!.parseSmbios(table, 'table', 3, 0);
      if (r.table?.baseboard.serial === undefined) return undefined; // an empty string is no string
      expect('placeholders' in r.table, 'the addon judges nothing').toBe(false);
      return classifySmbios(r.table).placeholders.includes('baseboard.serial');
    };
    const known = ['To Be Filled By O.E.M.', 'Default string', '0', 'None', 'Not Specified', '0123456789', 'PC131TBF', 'x.x', 'Base Board Serial Number', 'VM147S018307', '  ', '...', '\tNone\t', 'ÉÉÉÉ', 'ıııı', 'É', 'UN\u212ANOWN'];
    for (const s of known) expect(nativeSays(s), s).toBe(isPlaceholder(s));
    fc.assert(
      // Control characters, non-ASCII letters (É, dotless ı, the Kelvin sign that lower-cases to
      // "k" in Unicode) and ASCII.
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
    const native = fileURLToPath(new URL('../src/node/fingerprint/native.ts', import.meta.url));
    const fallback = fileURLToPath(new URL('../src/node/fingerprint/fallback.ts', import.meta.url));
    const code = `const { readdirSync } = await import('node:fs');
const { loadNative } = await import(${JSON.stringify(native)});
const { linuxAdapters } = await import(${JSON.stringify(fallback)});
const a = loadNative();
const { linuxAdapterReport, linuxInterfaces } = await import(${JSON.stringify(fallback)});
console.log(JSON.stringify({ visible: readdirSync('/sys/class/net').sort(), native: a ? a.networkInterfaces() : null, host: a ? a.hostIdentity().interfaces : null, fallbackFacts: linuxInterfaces(), fallback: linuxAdapterReport(), plain: linuxAdapters() }));`;
    const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    type Report = { adapters: unknown[]; rejected: Array<{ name: string; reason: string }> };
    const out = JSON.parse(r.stdout) as { visible: string[]; native: LinuxInterfaceFacts[] | null; host: LinuxInterfaceFacts[] | null; fallbackFacts: LinuxInterfaceFacts[]; fallback: Report; plain: unknown[] };
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
      // The addon reads the same facts of these adapters as the fallback (it adds the ethtool
      // permanent address, all zero on virtual ones), and the one judge gives the same verdicts.
      const facts = (x: LinuxInterfaceFacts[]) => [...x].sort((p, q) => (p.name < q.name ? -1 : 1)).map((f) => ({ ...f, permanentAddress: '' }));
      expect(facts(out.native!)).toEqual(facts(out.fallbackFacts));
      expect(facts(out.host!)).toEqual(facts(out.fallbackFacts));
      expect(out.native!.find((f) => f.name === 'eno1')).toMatchObject({ hasDevice: false, bridge: true, devtype: 'bridge' });
      expect(out.native!.find((f) => f.name === 'enp2s0')).toMatchObject({ hasDevice: false, tunFlags: true });
      const judged = judgeInterfaces(out.native!);
      expect(judged.adapters).toEqual([]);
      expect(sorted(judged.rejected)).toEqual(expected);
      expect(judgeInterfaces(out.host!).adapters).toEqual([]);
    }
  });
});
