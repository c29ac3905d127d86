/**
 * `licit smbios FILE [--json]`: decode an SMBIOS dump (`dmidecode --dump-bin FILE`, or Linux
 * `/sys/firmware/dmi/tables/DMI`) and print the system, baseboard, chassis and processor fields as
 * they stand. A support tool: the file is the user's own, so raw values are shown.
 */
import { LicenseError, loadSmbios } from '../../cli-internals.js';
import { parseFlags, required, type Verb } from '../context.js';
import { readFileBounded } from '../files.js';

const USAGE = 'licit smbios FILE [--json]';
const MAX_BYTES = 16 * 1024 * 1024;

export const run: Verb = async (argv) => {
  const { positionals } = parseFlags(argv, {}, USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[1]}": give one FILE\nUsage: ${USAGE}`);
  const file = required(positionals[0], 'FILE', USAGE);
  const { decodeSmbios } = await loadSmbios();
  const info = decodeSmbios(readFileBounded(file, 'FILE', MAX_BYTES, 'is larger than 16 MiB; SMBIOS dumps are a few kilobytes'));
  const ph = new Set(info.placeholders);
  const show = (group: string, fields: Record<string, unknown>, prefix = group) =>
    [
      group,
      ...Object.entries(fields).map(([k, v]) => `  ${k}: ${String(v)}${ph.has(`${prefix}.${k}`) ? '   (placeholder: ignored in fingerprints)' : ''}`),
    ].join('\n');
  const text = [
    `SMBIOS ${info.version === '0.0' ? '(version unknown: bare table)' : info.version}, ${info.structures} structures`,
    show('system', info.system),
    show('baseboard', info.baseboard),
    show('chassis', info.chassis),
    ...info.processors.map((p, i) => show(`processor ${i}`, p, `processors.${i}`)),
  ].join('\n');
  return { data: { file, ...info }, text };
};
