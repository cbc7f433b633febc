import { XMLParser } from 'fast-xml-parser';

/**
 * SOAP 1.2 for the virtual ONVIF camera, written by hand: responses are string templates with the
 * namespaces ONVIF devices use, requests are parsed with fast-xml-parser (namespace prefixes removed,
 * so `tds:GetProfiles` and `GetProfiles` read the same).
 */

export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  tns1: 'http://www.onvif.org/ver10/topics',
  ter: 'http://www.onvif.org/ver10/error',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
} as const;

const NS_DECL = Object.entries(NS)
  .map(([p, uri]) => `xmlns:${p}="${uri}"`)
  .join(' ');

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NS_DECL}><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

/** A SOAP fault: `code` is Sender or Receiver, `subcode` an ONVIF ter: code such as `ter:NotAuthorized`. */
export function fault(code: 'Sender' | 'Receiver', subcode: string, reason: string): string {
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${xmlEscape(subcode)}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${xmlEscape(reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

/** ISO-8601 UTC with whole seconds, the form the onvif client turns into a Date. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** xs:duration as used by ONVIF (PT10S, PT1M, PT1H30M, PT0.5S); null when it cannot be read. */
export function parseDurationMs(d: string): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d.trim());
  if (!m || d.trim() === 'P' || d.trim() === 'PT') return null;
  const [, days, h, min, s] = m;
  return ((Number(days ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(s ?? 0) * 1000);
}

export interface SoapRequest {
  /** Local name of the first element in the body, e.g. `GetProfiles`. */
  action: string;
  /** The body element's content, prefixes removed (attributes as `@_name`, text as `#text` when mixed). */
  body: Record<string, unknown>;
  header: Record<string, unknown>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  removeNSPrefix: true,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  trimValues: true,
});

export class SoapParseError extends Error {}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function parseSoap(xml: string): SoapRequest {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml, true) as Record<string, unknown>;
  } catch (err) {
    throw new SoapParseError(`not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const env = doc.Envelope;
  if (typeof env !== 'object' || env === null) throw new SoapParseError('no SOAP Envelope');
  const body = obj((env as Record<string, unknown>).Body);
  const action = Object.keys(body).find((k) => !k.startsWith('@_') && k !== '#text');
  if (!action) throw new SoapParseError('empty SOAP Body');
  return { action, body: obj(body[action]), header: obj((env as Record<string, unknown>).Header) };
}

/** Text of a child element that may carry attributes (`{ '#text': ..., '@_Type': ... }`) or be a plain string. */
export function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const t = obj(v)['#text'];
  return t === undefined ? undefined : String(t);
}

export function child(v: unknown, name: string): unknown {
  return obj(v)[name];
}
