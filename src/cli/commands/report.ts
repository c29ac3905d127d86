/**
 * `licit report`: a license's usage report over a day, week, month or custom range, as a table,
 * JSON (`--json`) or a self-contained HTML page with charts (`--html FILE`).
 */
import { computeReport, computeVendorReport, parseRangeText, type UsageReport, type VendorReport, type VendorReportGrouping } from '../../admin.js';
import { LicenseError, loadReportHtml } from '../../cli-internals.js';
import { verifyLicense } from '../../index.node.js';
import { parseFlags, required, type Verb } from '../context.js';
import { licenseText, readPublicKeys } from '../files.js';
import { openStore } from '../store-arg.js';

const USAGE =
  'licit report --store DIR|postgres://... (--license-id ID | --license KEY --public-key FILE) --range day|week|month|custom\n' +
  '       [--at ISO] [--from ISO --to ISO] [--time-zone ZONE] [--schema NAME] [--verify] [--html FILE] [--json]\n' +
  '       licit report --all [--by customer|edition|license] --store ... --range ... [--time-zone ZONE]   (every license, summed per group)';

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

/** The report as a plain-text table. */
function table(r: UsageReport): string {
  const head = `License ${r.licenseId} · ${r.range.kind} ${r.range.from} .. ${r.range.to}${r.range.until !== r.range.to ? ` (up to ${r.range.until})` : ''}`;
  const seats = r.seats.map((s) => [s.type, s.licensed, s.inUse, s.available, pct(s.averageUtilisation), s.peakInUse, s.topUps, s.licensesAdded].join('\t'));
  // Activations and license users: the same columns; no limit known prints "-", they have no top-ups.
  const limits = r.limits.map((l) => [l.type, l.licensed ?? '-', l.inUse, l.available ?? '-', pct(l.averageUtilisation), l.peakInUse, '-', '-'].join('\t'));
  // The seat totals are the headline unless the license only limits activations or users.
  const seatHeadline = r.seats.length > 0 || r.limits.length === 0;
  const limitHeadline = r.limits.map((l) => `Available ${l.type === 'users' ? 'license users' : 'activations'}\t${l.licensed === null ? `no limit known (${l.inUse} in use)` : `${l.available ?? 0} of ${l.licensed}`}`);
  const months = r.monthly.map((m) => `${m.month}\t${m.licensesAdded}\t${m.seatTopUps}\t${m.creditTopUps}\t${m.creditsAdded}`);
  return [
    head,
    '',
    ...(seatHeadline ? [`Available licenses\t${r.totals.available} of ${r.totals.licensed}`, `Average utilisation\t${pct(r.totals.averageUtilisation)}`] : []),
    ...limitHeadline,
    `Top-ups\t${r.topUps.total} (seats ${r.topUps.seats}, credits ${r.topUps.credits}; automatic ${r.topUps.automatic})`,
    `Licenses added\t${r.licensesAdded}`,
    `Credits consumed\t${r.credits.consumed} (added ${r.credits.added})`,
    `Alerts raised\t${r.alertsRaised}`,
    '',
    'TYPE\tLICENSED\tIN USE\tAVAILABLE\tAVG UTIL\tPEAK\tTOP-UPS\tADDED',
    ...(seats.length + limits.length === 0 ? [`(no seat types, activations or users${r.events === 0 ? '; no events in this range either: check --license-id, or pass --license KEY --public-key FILE for its limits' : ''})`] : [...seats, ...limits]),
    '',
    'MONTH\tLICENSES ADDED\tSEAT TOP-UPS\tCREDIT TOP-UPS\tCREDITS ADDED',
    ...months,
  ].join('\n');
}

/** `licit report`: usage over a range. */
function vendorTable(r: VendorReport): string {
  const row = (key: string, g: VendorReport['totals']) =>
    [key, g.licenses.length, g.seatsLicensed, g.seatsInUse, pct(g.averageUtilisation), g.licensesAdded, g.topUps.total, g.credits.consumed, g.credits.added, g.alertsRaised].join('\t');
  return [
    `All licenses by ${r.by} · ${r.range.kind} ${r.range.from} .. ${r.range.to} (${r.range.timeZone})`,
    '',
    `${r.by.toUpperCase()}\tLICENSES\tSEATS\tIN USE\tAVG UTIL\tADDED\tTOP-UPS\tCREDITS USED\tCREDITS ADDED\tALERTS`,
    ...r.groups.map((g) => row(g.key, g)),
    row('TOTAL', r.totals),
  ].join('\n');
}

export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    { store: s, 'license-id': s, license: s, 'public-key': { type: 'string', multiple: true }, range: s, at: s, from: s, to: s, schema: s, html: s, verify: { type: 'boolean' }, all: { type: 'boolean' }, by: s, 'time-zone': s },
    USAGE,
  );
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const storeSpec = required(v.store, '--store', USAGE);
  // The one range parser, shared with GET /v1/admin/reports: same input, same refusals.
  const range = parseRangeText({ range: required(v.range, '--range', USAGE), at: v.at, from: v.from, to: v.to });
  const timeZone = v['time-zone'];
  if (v.all === true) {
    if (v['license-id'] !== undefined || v.license !== undefined || v.html !== undefined) throw new LicenseError('ERR_USAGE', `--all reports every license: leave out --license-id, --license and --html\nUsage: ${USAGE}`);
    const by = (v.by ?? 'customer') as VendorReportGrouping;
    if (!['customer', 'edition', 'license'].includes(by)) throw new LicenseError('ERR_USAGE', `--by is customer, edition or license\nUsage: ${USAGE}`);
    const store = await openStore(storeSpec, { schema: v.schema, poolSize: 2, applicationName: 'licit-cli', existing: true });
    try {
      const report = await computeVendorReport(store, range, { by, timeZone, verify: v.verify === true });
      return { data: { report }, text: vendorTable(report) };
    } finally {
      await store.close();
    }
  }
  if (v.by !== undefined) throw new LicenseError('ERR_USAGE', `--by goes with --all\nUsage: ${USAGE}`);
  let licenseId = v['license-id'];
  let limits: { licensed: Record<string, number>; maxActivations: number | undefined; maxUsers: number | undefined } | undefined;
  if (v.license !== undefined) {
    // Vendor side: the report needs the signed limits; which machine a node-locked key is bound
    // to is not this machine's business, so no machine check.
    const license = await verifyLicense(licenseText(v.license), { publicKeys: readPublicKeys(v['public-key'], USAGE), machine: async () => undefined });
    if (licenseId !== undefined && licenseId !== license.id) throw new LicenseError('ERR_USAGE', `--license-id "${licenseId}" is not the id of --license ("${license.id}"); give one of them`);
    licenseId = license.id;
    limits = { licensed: { ...license.seats }, maxActivations: license.maxActivations, maxUsers: license.maxUsers };
  }
  if (licenseId === undefined || licenseId === '') throw new LicenseError('ERR_USAGE', `give --license-id ID or --license KEY --public-key FILE\nUsage: ${USAGE}`);
  const store = await openStore(storeSpec, { schema: v.schema, poolSize: 2, applicationName: 'licit-cli', existing: true });
  try {
    const report = await computeReport(store, licenseId, range, { verify: v.verify === true, timeZone, ...limits });
    if (v.html !== undefined) {
      const { writeReportHtml } = await loadReportHtml();
      await writeReportHtml(v.html, report).catch((e: NodeJS.ErrnoException) => {
        throw new LicenseError('ERR_IO', `cannot write ${v.html}: ${e.message}. Check the directory exists and is writable`, { path: v.html });
      });
    }
    return {
      data: { report, ...(v.html === undefined ? {} : { html: v.html }) },
      text: v.html === undefined ? table(report) : `${table(report)}\n\nWrote ${v.html}`,
    };
  } finally {
    await store.close();
  }
};
