import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * The cheap health probe (issue 10's 1,311-camera cycle): what the `onvif` client costs per call — a
 * full SOAP envelope built per request, the answer parsed into objects by xml2js, one socket pool per
 * camera — is paid once at connect; each cycle then sends one hand-written GetSystemDateAndTime over a
 * keep-alive agent shared by every camera of the gateway, read by a fast path (the six numbers of the
 * UTCDateTime element), and one RTSP DESCRIBE on a TCP connection kept open between probes (a camera
 * that closes it gets a new one next time). Anything the fast path cannot read is a `FastPathMiss`:
 * the caller asks the full client instead (odd namespaces, a camera answering with local time only).
 */

export class FastPathMiss extends Error {}

const BODY = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
    '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>',
);
const MAX_ANSWER = 64 * 1024;

const field = (xml: string, name: string): number | null => {
  const m = new RegExp(`<(?:[A-Za-z0-9_]+:)?${name}>\\s*(\\d{1,4})\\s*</`).exec(xml);
  return m ? Number(m[1]) : null;
};

/** The camera's UTC clock from a GetSystemDateAndTimeResponse; throws FastPathMiss when it cannot tell. */
export function parseSystemTime(xml: string): Date {
  const i = xml.search(/<(?:[A-Za-z0-9_]+:)?UTCDateTime[\s>]/);
  if (i < 0) throw new FastPathMiss('no UTCDateTime in the answer');
  const end = xml.search(/<\/(?:[A-Za-z0-9_]+:)?UTCDateTime>/);
  const part = xml.slice(i, end > i ? end : undefined);
  const [y, mo, d, h, mi, s] = ['Year', 'Month', 'Day', 'Hour', 'Minute', 'Second'].map((n) => field(part, n));
  if ([y, mo, d, h, mi, s].some((v) => v === null)) throw new FastPathMiss('UTCDateTime lacks a field');
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  if (!Number.isFinite(t) || mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 60) throw new FastPathMiss('UTCDateTime out of range');
  return new Date(t);
}

/** One keep-alive agent for every camera of a gateway (one idle socket per camera host at most a few). */
export class SoapClock {
  private readonly agent: Agent;

  constructor(private readonly timeoutMs = 3000, maxSockets = 8) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 30_000, scheduling: 'lifo' });
  }

  /** GetSystemDateAndTime (unauthenticated, as ONVIF allows) at a device service address. */
  systemTime(xaddr: string): Promise<Date> {
    const u = new URL(xaddr);
    if (u.protocol !== 'http:') return Promise.reject(new FastPathMiss('fast path speaks http only'));
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err: Error | null, v?: Date): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(v!);
      };
      const req = request(
        {
          host: u.hostname,
          port: Number(u.port || 80),
          path: u.pathname + u.search,
          method: 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': BODY.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_ANSWER) {
              req.destroy();
              return done(new Error('GetSystemDateAndTime answer too large'));
            }
            chunks.push(c);
          });
          res.on('end', () => {
            if (res.statusCode !== 200) return done(new Error(`GetSystemDateAndTime answered HTTP ${res.statusCode}`));
            try {
              done(null, parseSystemTime(Buffer.concat(chunks).toString('utf8')));
            } catch (err) {
              done(err as Error);
            }
          });
          res.on('error', (e) => done(e));
        },
      );
      req.on('timeout', () => {
        req.destroy();
        done(new Error(`ONVIF timeout after ${this.timeoutMs} ms`));
      });
      req.on('error', (e) => done(e));
      req.end(BODY);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

const MAX_REPLY = 64 * 1024;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

interface Reply {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/**
 * One camera's RTSP control connection, kept between probes: DESCRIBE (Basic, or Digest once the camera
 * challenges; the nonce is reused until the camera refuses it) on the same socket each time.
 */
export class RtspSession {
  private sock: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private cseq = 0;
  private auth: string;
  private challenge: string | null = null;
  private pending: { resolve(r: Reply): void; reject(e: Error): void; timer: NodeJS.Timeout } | null = null;
  private readonly host: string;
  private readonly port: number;
  readonly uri: string;
  /** Connections opened so far (the benchmark shows reuse). */
  connects = 0;

  constructor(uri: string, private readonly username: string, private readonly password: string, private readonly timeoutMs = 3000) {
    const u = new URL(uri);
    if (u.protocol !== 'rtsp:') throw new Error(`bad RTSP URI ${uri}`);
    u.username = '';
    u.password = '';
    this.uri = u.toString();
    this.host = u.hostname;
    this.port = Number(u.port || 554);
    this.auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /** DESCRIBE; resolves with the first video codec of the SDP (or null). */
  async describe(): Promise<string | null> {
    let r = await this.send('DESCRIBE');
    const wa = r.headers.get('www-authenticate');
    if (r.status === 401 && wa && /^Digest/i.test(wa) && wa !== this.challenge) {
      this.challenge = wa;
      r = await this.send('DESCRIBE');
    }
    if (r.status !== 200) throw new Error(`DESCRIBE answered ${r.status}`);
    if (!/^v=0/m.test(r.body)) throw new Error('DESCRIBE answer has no SDP');
    if ((r.headers.get('connection') ?? '').toLowerCase() === 'close') this.close();
    return /a=rtpmap:\d+ ([A-Za-z0-9-]+)\//.exec(r.body)?.[1] ?? null;
  }

  private authFor(method: string): string {
    if (!this.challenge) return this.auth;
    const p = Object.fromEntries([...this.challenge.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (!p.realm || !p.nonce) return this.auth;
    const response = md5(`${md5(`${this.username}:${p.realm}:${this.password}`)}:${p.nonce}:${md5(`${method}:${this.uri}`)}`);
    return `Digest username="${this.username}", realm="${p.realm}", nonce="${p.nonce}", uri="${this.uri}", response="${response}"`;
  }

  private async socket(): Promise<Socket> {
    if (this.sock && !this.sock.destroyed) return this.sock;
    this.connects++;
    const s = connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    this.sock = s;
    this.buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => this.onData(s, d));
    s.on('error', (e) => this.fail(s, e));
    s.on('close', () => this.fail(s, new Error('RTSP connection closed before a reply')));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`RTSP connect timeout after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    return s;
  }

  private async send(method: string): Promise<Reply> {
    if (this.pending) throw new Error('RTSP request already in flight');
    const s = await this.socket();
    const text = `${method} ${this.uri} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\nAccept: application/sdp\r\nUser-Agent: warden-edge\r\nAuthorization: ${this.authFor(method)}\r\n\r\n`;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(s, new Error(`RTSP timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { resolve, reject, timer };
      s.write(text);
    });
  }

  private onData(s: Socket, d: Buffer): void {
    if (s !== this.sock) return;
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (this.buf.length > MAX_REPLY) return this.fail(s, new Error('RTSP reply too large'));
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^RTSP\/1\.\d (\d{3})/.exec(lines[0] ?? '');
    if (!m) return this.fail(s, new Error(`not an RTSP reply: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`));
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const len = Number(headers.get('content-length') ?? 0);
    if (this.buf.length - end - 4 < len) return;
    const body = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
    this.buf = this.buf.subarray(end + 4 + len);
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    clearTimeout(p.timer);
    p.resolve({ status: Number(m[1]), headers, body });
  }

  private fail(s: Socket, e: Error): void {
    if (s !== this.sock) return;
    this.sock = null;
    s.destroy();
    const p = this.pending;
    this.pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }

  close(): void {
    if (this.sock) this.fail(this.sock, new Error('RTSP session closed'));
  }
}
