import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { HubConfig } from '../config.ts';

/**
 * fastify's `https` options from `http.tls` (issue 9): the REST API, socket.io, live video and MQTT over WebSocket
 * all ride this one listener, so they are all HTTPS/WSS together. No `http.tls`: plain HTTP (loopback only unless
 * http.allowInsecure, checked when the config is parsed). A file that cannot be read stops the start with its name.
 */
export function httpsOptions(http: HubConfig['http']): { https: SecureContextOptions & { minVersion: 'TLSv1.2'; requestCert?: boolean; rejectUnauthorized?: boolean } } | Record<string, never> {
  const tls = http.tls;
  if (!tls) return {};
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`http.tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  return {
    https: {
      cert: read('cert', tls.cert),
      key: read('key', tls.key),
      // Client certificates are optional on HTTP (browsers log in with a password); a presented one must chain to ca.
      ...(tls.ca ? { ca: read('ca', tls.ca), requestCert: true, rejectUnauthorized: false } : {}),
      minVersion: 'TLSv1.2',
    },
  };
}
