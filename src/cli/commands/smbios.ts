/**
 * `licit smbios FILE [--json]`: decode an SMBIOS dump (`dmidecode --dump-bin FILE`, or Linux
 * `/sys/firmware/dmi/tables/DMI`) and print the system, baseboard, chassis and processor fields as
 * they stand. A support tool: the file is the user's own, so raw values are shown.
 */
import { open } from 'node:fs/promises';
import { LicenseError } from '../../core/errors.js';
import { parseFlags, required, type Verb } from '../context.js';
import { decodeSmbios } from '../../node/fingerprint/smbios.js';

const USAGE = 'licit smbios FILE [--json]';
const MAX_BYTES = 16 * 1024 * 1024;

async function readBounded(file: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new LicenseError('ERR_IO', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  try {
    // sysfs files report size 0 or 4096: read up to the bound instead of trusting stat.
    const buf = Buffer.alloc(MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_BYTES) throw new LicenseError('ERR_SMBIOS_MALFORMED', `${file} is larger than 16 MiB; SMBIOS dumps are a few kilobytes`, { file });
    }
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof LicenseError) throw e;
    throw new LicenseError('ERR_IO', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  } finally {
    await fh.close();
  }
}

export const run: Verb = async (argv) => {
  const { positionals } = parseFlags(argv, {}, USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[1]}": give one FILE\nUsage: ${USAGE}`);
  const file = required(positionals[0], 'FILE', USAGE);
  const info = decodeSmbios(await readBounded(file));
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
