import { writeKeyPair } from '../../issuer/keygen.js';
import { parseFlags, required, type Verb } from '../context.js';

const USAGE = 'licit keygen --out DIR [--json]';

export const run: Verb = async (argv) => {
  const { values } = parseFlags(argv, { out: { type: 'string' } }, USAGE);
  const files = await writeKeyPair(required(values.out, '--out', USAGE));
  return {
    data: { privateKey: files.privateKeyPath, publicKey: files.publicKeyPath, kid: files.kid },
    text: `Vendor key pair ${files.kid} written:\n  private ${files.privateKeyPath} (mode 0600: keep it secret, it signs licenses)\n  public  ${files.publicKeyPath} (ship it inside your application)`,
  };
};
