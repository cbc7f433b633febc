import { createHash } from 'node:crypto';
import { connect } from 'node:net';

/**
 * RTSP health probe: one DESCRIBE over TCP (Basic, or Digest when the camera challenges for it), the
 * answer's status and SDP. Cheap enough to run for every camera each cycle: no media is set up.
 */

export interface RtspProbeResult {
  ok: boolean;
  status: number | null;
  /** First video codec named in the SDP (rtpmap), e.g. H264. */
  codec: string | null;
  error: string | null;
  ms: number;
}

interface Reply {
  status: number;
  headers: Map<string, string>;
  body: string;
}

const MAX_REPLY = 64 * 1024;

function request(host: string, port: number, text: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, r?: Reply): void => {
      sock.destroy();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(r!);
    };
    const timer = setTimeout(() => done(new Error(`RTSP timeout after ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > MAX_REPLY) return done(new Error('RTSP reply too large'));
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^RTSP\/1\.\d (\d{3})/.exec(lines[0] ?? '');
      if (!m) return done(new Error(`not an RTSP reply: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`));
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      const len = Number(headers.get('content-length') ?? 0);
      if (buf.length - end - 4 < len) return;
      done(null, { status: Number(m[1]), headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    });
    sock.on('close', () => done(new Error('RTSP connection closed before a reply')));
  });
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function digest(challenge: string, user: string, pass: string, method: string, uri: string): string | null {
  const p = Object.fromEntries([...challenge.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  if (!p.realm || !p.nonce) return null;
  const response = md5(`${md5(`${user}:${p.realm}:${pass}`)}:${p.nonce}:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${p.realm}", nonce="${p.nonce}", uri="${uri}", response="${response}"`;
}

export async function probeRtsp(uri: string, username: string, password: string, timeoutMs = 3000): Promise<RtspProbeResult> {
  const t0 = performance.now();
  const result = (ok: boolean, status: number | null, codec: string | null, error: string | null): RtspProbeResult => ({ ok, status, codec, error, ms: performance.now() - t0 });
  let u: URL;
  try {
    u = new URL(uri);
    if (u.protocol !== 'rtsp:') throw new Error('not rtsp:');
  } catch {
    return result(false, null, null, `bad RTSP URI ${uri}`);
  }
  u.username = '';
  u.password = '';
  const clean = u.toString();
  const port = Number(u.port || 554);
  const describe = (auth: string | null, cseq: number): string =>
    `DESCRIBE ${clean} RTSP/1.0\r\nCSeq: ${cseq}\r\nAccept: application/sdp\r\nUser-Agent: warden-edge\r\n${auth ? `Authorization: ${auth}\r\n` : ''}\r\n`;
  try {
    let r = await request(u.hostname, port, describe(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, 1), timeoutMs);
    const challenge = r.headers.get('www-authenticate');
    if (r.status === 401 && challenge && /^Digest/i.test(challenge)) {
      const auth = digest(challenge, username, password, 'DESCRIBE', clean);
      if (auth) r = await request(u.hostname, port, describe(auth, 2), timeoutMs);
    }
    if (r.status !== 200) return result(false, r.status, null, `DESCRIBE answered ${r.status}`);
    const codec = /a=rtpmap:\d+ ([A-Za-z0-9-]+)\//.exec(r.body)?.[1] ?? null;
    if (!/^v=0/m.test(r.body)) return result(false, r.status, null, 'DESCRIBE answer has no SDP');
    return result(true, r.status, codec, null);
  } catch (err) {
    return result(false, null, null, (err as Error).message);
  }
}
