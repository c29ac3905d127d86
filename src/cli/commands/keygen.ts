import { LicenseError, loadKeygen } from '../../cli-internals.js';
import { parseFlags, required, type Verb } from '../context.js';

const USAGE = 'licit keygen --out DIR [--json]';

export const run: Verb = async (argv) => {
  const { values, positionals } = parseFlags(argv, { out: { type: 'string' } }, USAGE);
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const { writeKeyPair } = await loadKeygen();
  const files = await writeKeyPair(required(values.out, '--out', USAGE));
  return {
    data: { privateKey: files.privateKeyPath, publicKey: files.publicKeyPath, kid: files.kid },
    text: `Vendor key pair ${files.kid} written:\n  private ${files.privateKeyPath} (mode 0600: keep it secret, it signs licenses)\n  public  ${files.publicKeyPath} (ship it inside your application)`,
  };
};
