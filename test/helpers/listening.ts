/** A license server listening on a free loopback port, for end-to-end tests over real HTTP. */
import { createLicenseServer, type LicenseServer, type LicenseServerOptions } from '../../src/server/index.js';

export interface Listening {
  readonly server: LicenseServer;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stop listening, then close the store. */
  close(): Promise<void>;
}

export async function listening(options: LicenseServerOptions): Promise<Listening> {
  const server = createLicenseServer(options);
  const l = await server.listen(0);
  return {
    server,
    url: `http://127.0.0.1:${l.port}`,
    close: async () => {
      await l.close();
      await server.vendor.store.close();
    },
  };
}
