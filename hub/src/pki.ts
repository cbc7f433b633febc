import { X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/*
 * A small campus PKI (issue 9): one CA, a server certificate for the hub (its host names and addresses as SANs) and
 * one client certificate per gateway whose CN and SAN are the gateway id (the hub's MQTT listener checks that the
 * certificate of a mutual-TLS login names the gateway it logs in as). ECDSA P-256, SHA-256. `warden pki` wraps it;
 * docs/TLS.md has the same steps with openssl.
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface Pem {
  cert: string;
  key: string;
}

export interface PkiOptions {
  /** Validity starts an hour before this (clock skew between machines); default Date.now(). */
  now?: number;
  days?: number;
}

const serial = (): string => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // a positive INTEGER
  return b.toString('hex');
};

const validity = (o: PkiOptions, defaultDays: number) => {
  const now = o.now ?? Date.now();
  return { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + (o.days ?? defaultDays) * DAY) };
};

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY');
}

const generate = async (): Promise<CryptoKeyPair> => (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;

/** Escapes a value for an X.500 name string (RFC 4514). */
const dnValue = (v: string): string => v.replace(/([,+"\\<>;=])/g, '\\$1');

/** A self-signed CA that may sign end-entity certificates only (path length 0). */
export async function createCa(commonName = 'Warden campus CA', o: PkiOptions = {}): Promise<Pem> {
  const keys = await generate();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${dnValue(commonName)}, O=Warden`,
    ...validity(o, 3650),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

export interface IssueOptions extends PkiOptions {
  /** server: the hub (TLS server auth); client: a gateway (TLS client auth). */
  usage: 'server' | 'client';
  commonName: string;
  /** Host names and IP addresses put in the subjectAltName (IP literals become IP entries). */
  names?: string[];
}

/** An end-entity certificate and its new key, signed by `ca`. */
export async function issueCert(ca: Pem, o: IssueOptions): Promise<Pem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.key), ALG, false, ['sign']);
  const keys = await generate();
  const names = [...new Set([o.commonName, ...(o.names ?? [])])];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dnValue(o.commonName)}, O=Warden`,
    issuer: caCert.subject,
    ...validity(o, o.usage === 'server' ? 825 : 730),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey as unknown as CryptoKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([o.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** SHA-256 fingerprint of a PEM certificate as the hub stores and compares it: 64 lower-case hex digits. */
export function certFingerprint(pem: string | Buffer): string {
  return new NodeX509(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Files written by `warden pki`; private keys are 0600. */
function write(dir: string, name: string, pem: Pem): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (existsSync(cert) || existsSync(key)) throw new Error(`${cert} or ${key} exists already; remove it first to replace it`);
  writeFileSync(key, pem.key, { mode: 0o600 });
  writeFileSync(cert, pem.cert, { mode: 0o644 });
  return { cert, key };
}

function readCa(dir: string): Pem {
  try {
    return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  } catch (err) {
    throw new Error(`no campus CA in ${dir} (ca.crt, ca.key): run \`warden pki ca --dir ${dir}\` first (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

const fail = (err: unknown): void => {
  console.error((err as Error).message);
  process.exitCode = 1;
};

/** `warden pki ca --dir <dir> [--name <cn>] [--days n]` */
export async function runPkiCa(opts: { dir: string; name?: string; days?: string }): Promise<void> {
  try {
    const files = write(opts.dir, 'ca', await createCa(opts.name, opts.days ? { days: Number(opts.days) } : {}));
    console.log(`campus CA: ${files.cert} (give this file to the hub's tls.ca and every gateway's hub.ca)\n  key: ${files.key} (keep offline)`);
  } catch (err) {
    fail(err);
  }
}

/** `warden pki hub --dir <dir> --name hub.campus.example [--name 10.0.0.5 ...]`: the hub's server certificate. */
export async function runPkiHub(opts: { dir: string; name: string[]; days?: string }): Promise<void> {
  try {
    const [cn, ...rest] = opts.name;
    if (!cn) throw new Error('give at least one --name (host name or IP address clients use to reach the hub)');
    const pem = await issueCert(readCa(opts.dir), { usage: 'server', commonName: cn, names: rest, ...(opts.days ? { days: Number(opts.days) } : {}) });
    const files = write(opts.dir, 'hub', pem);
    console.log(`hub certificate: ${files.cert}\n  key: ${files.key}\n  names: ${opts.name.join(', ')}`);
  } catch (err) {
    fail(err);
  }
}

/** `warden pki gateway <id> --dir <dir>`: a gateway's client certificate, CN and SAN = the gateway id. */
export async function runPkiGateway(id: string, opts: { dir: string; days?: string }): Promise<void> {
  try {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id)) throw new Error(`invalid gateway id ${JSON.stringify(id)}`);
    const pem = await issueCert(readCa(opts.dir), { usage: 'client', commonName: id, ...(opts.days ? { days: Number(opts.days) } : {}) });
    const files = write(opts.dir, `gateway-${id}`, pem);
    console.log(`gateway ${id} certificate: ${files.cert}\n  key: ${files.key}\n  sha256 fingerprint: ${certFingerprint(pem.cert)}`);
  } catch (err) {
    fail(err);
  }
}
