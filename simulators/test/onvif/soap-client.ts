import { randomBytes } from 'node:crypto';
import { passwordDigest } from '../../src/onvif/wsse.ts';

/** A hand-written SOAP caller for the simulator's own tests (the edge's tests use the `onvif` client). */
export interface Creds {
  user: string;
  password: string;
  /** Camera clock to put into Created (default: now). */
  created?: string;
  nonce?: Buffer;
  plaintext?: boolean;
}

export function security(c: Creds): string {
  const nonce = c.nonce ?? randomBytes(16);
  const created = c.created ?? new Date().toISOString();
  const pw = c.plaintext ? c.password : passwordDigest(nonce, created, c.password);
  const type = c.plaintext ? 'PasswordText' : 'PasswordDigest';
  return (
    `<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>` +
    `<Username>${c.user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#${type}">${pw}</Password>` +
    `<Nonce>${nonce.toString('base64')}</Nonce><Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    `</UsernameToken></Security>`
  );
}

export async function soap(url: string, body: string, creds?: Creds): Promise<{ status: number; xml: string }> {
  const xml =
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${creds ? security(creds) : ''}</s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`;
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/soap+xml' }, body: xml });
  return { status: r.status, xml: await r.text() };
}

export const pick = (xml: string, tag: string): string | undefined => new RegExp(`<[a-z0-9]+:${tag}(?:\\s[^>]*)?>([^<]*)<`).exec(xml)?.[1];
