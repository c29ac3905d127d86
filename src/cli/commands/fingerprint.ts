/**
 * `licit fingerprint (--salt S | --public-key FILE) [--json] [--explain STORED] [--fallback] [--machine-id ID] [--adapters]`:
 * this machine's fingerprint (hashed components only), its source, environment flags and strength,
 * and with `--explain` which components differ from a stored fingerprint. Imports only the
 * fingerprint runtime, so a cold start stays close to a bare `node`.
 */
import {
  LicenseError,
  loadAdapterRules,
  loadFingerprintMatch,
  loadFingerprintReader,
  loadFingerprintStrength,
  loadLinuxAdapters,
  loadNativeAddon,
  loadSaltForVendor,
} from '../../cli-internals.js';
import { parseFlags, type Verb } from '../context.js';

const USAGE = 'licit fingerprint (--salt S | --public-key FILE) [--json] [--explain STORED] [--fallback] [--machine-id ID] [--adapters]';

/** The salt from `--salt`, or derived from `--public-key` as `Licensing` derives it; one of them is required. */
async function saltFrom(salt: string | undefined, publicKey: string | undefined): Promise<string> {
  if (salt !== undefined && publicKey !== undefined) throw new LicenseError('ERR_USAGE', `give --salt or --public-key, not both\nUsage: ${USAGE}`);
  if (salt !== undefined && salt !== '') return salt;
  if (publicKey !== undefined) {
    const [{ readTextFile }, { saltForVendor }] = await Promise.all([import('../files.js'), loadSaltForVendor()]);
    return saltForVendor(readTextFile(publicKey, '--public-key'));
  }
  throw new LicenseError(
    'ERR_USAGE',
    `licit fingerprint needs the application's fingerprint salt${salt === '' ? ' (--salt is empty)' : ''}: --salt S with the salt the application passes to licit, or --public-key vendor.pub (the vendor's public key) when the application sets none and licit derives it from that key. There is no shared default salt\nUsage: ${USAGE}`,
  );
}

async function adapterReport(fallback: boolean): Promise<{ used: string[]; rejected: Array<{ name: string; reason: string }> }> {
  const [{ loadNative }, { judgeInterfaces }] = await Promise.all([loadNativeAddon(), loadAdapterRules()]);
  const addon = fallback ? undefined : loadNative();
  if (addon !== undefined) {
    // The addon reports facts; the core's rules judge them, as they judge the fallback's.
    const r = judgeInterfaces(addon.networkInterfaces());
    return { used: r.adapters.map((a) => a.name).sort(), rejected: r.rejected.sort((a, b) => (a.name < b.name ? -1 : 1)) };
  }
  if (process.platform !== 'linux') return { used: [], rejected: [] };
  const { linuxAdapterReport } = await loadLinuxAdapters();
  const r = linuxAdapterReport();
  return { used: r.adapters.map((a) => a.name), rejected: r.rejected };
}

export const run: Verb = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    argv,
    { explain: { type: 'string' }, salt: { type: 'string' }, 'public-key': { type: 'string' }, fallback: { type: 'boolean' }, 'machine-id': { type: 'string' }, adapters: { type: 'boolean' } },
    USAGE,
  );
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const machineId = values['machine-id'];
  if (machineId !== undefined && machineId.trim() === '') throw new LicenseError('ERR_USAGE', `--machine-id needs the id your operator assigns to this instance, got an empty one\nUsage: ${USAGE}`);
  const salt = await saltFrom(values.salt, values['public-key']);
  // The reader alone (not licit/fingerprint's whole model): matching is loaded only for --explain,
  // key parsing only for --public-key.
  const [{ getFingerprint }, { fingerprintStrength }] = await Promise.all([loadFingerprintReader(), loadFingerprintStrength()]);
  const fp = await getFingerprint({ salt, fallback: values.fallback === true, machineId });
  const strength = fingerprintStrength(fp);
  const nameWidth = Math.max(15, ...fp.components.map((c) => c.name.length));
  const data: Record<string, unknown> = { ...fp.toJSON(), strength };
  delete data.source;
  const lines = [
    `fingerprint: ${fp.toString()}`,
    `source: ${fp.source}   virtual: ${fp.virtual ? 'yes' : 'no'}   container: ${fp.container ? 'yes' : 'no'}`,
    `strength: ${strength.level === 'strong' ? 'strong' : 'WEAK'}. ${strength.why}`,
    'components:',
    ...fp.components.map((c) => `  ${c.kind.padEnd(15)} ${c.name.padEnd(nameWidth)} ${c.value}`),
  ];
  if (fp.unavailable.length > 0) lines.push(`not readable without root/administrator: ${fp.unavailable.join(', ')}`);
  if (fp.container && machineId === undefined) lines.push('note: this process runs in a container; its hardware identity may change on every restart (see --machine-id)');
  if (values.adapters === true) {
    // Which network adapters count and why the others do not (names and reasons, never MACs).
    const report = await adapterReport(values.fallback === true);
    data.adapters = report;
    lines.push('', 'network adapters:', ...report.used.map((n) => `  ${n.padEnd(16)} used`), ...report.rejected.map((r) => `  ${r.name.padEnd(16)} left out: ${r.reason}`));
  }
  if (values.explain !== undefined) {
    const { explain } = await loadFingerprintMatch();
    const e = explain(values.explain, fp);
    data.explain = { ok: e.ok, score: e.score, changed: e.changed, unavailable: e.unavailable, strength: e.strength, kinds: e.kinds, text: e.text };
    lines.push('', e.text);
  }
  // `source` first, as documented: {"ok":true,"source":...,"virtual":...}
  return { data: { source: fp.source, ...data }, text: lines.join('\n') };
};
