import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import type * as Onvif from 'onvif';
import type { CameraSourceConfig } from '../video/config.ts';

const require = createRequire(import.meta.url);
const onvif = require('onvif') as typeof Onvif;

export class SnapshotError extends Error {
  constructor(
    readonly reason: 'onvif' | 'http' | 'auth' | 'too_large' | 'not_jpeg' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/**
 * One camera's snapshot, fetched by the hub: the snapshot URI from the camera's ONVIF media service
 * (GetSnapshotUri, WS-Security digest via the `onvif` client; cached until a fetch fails), then an HTTP GET of it
 * with HTTP Basic or Digest (MD5, qop=auth) as the camera's 401 asks. Bounded by a timeout and a size cap.
 */
export class SnapshotSource {
  private uri: string | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 2 });

  constructor(
    private readonly src: CameraSourceConfig & { onvif: string },
    private readonly limits: { timeoutMs: number; maxBytes: number },
  ) {}

  async fetch(): Promise<Buffer> {
    const uri = this.uri ?? (this.uri = await this.snapshotUri());
    try {
      return await this.get(uri);
    } catch (err) {
      this.uri = undefined;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private snapshotUri(): Promise<string> {
    const u = new URL(this.src.onvif);
    const cam = new onvif.Cam({
      hostname: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      path: u.pathname,
      useSecure: u.protocol === 'https:',
      username: this.src.username,
      password: this.src.password,
      timeout: this.limits.timeoutMs,
      autoconnect: false,
      agent: this.agent,
    });
    cam.on('error', () => {});
    cam.on('warning', () => {});
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => reject(new SnapshotError('onvif', `ONVIF GetSnapshotUri at ${this.src.onvif}: ${(err as Error).message ?? String(err)}`));
      try {
        cam.connect((err) => {
          if (err) return fail(err);
          cam.getSnapshotUri({}, ((e: Error | null, r?: { uri?: unknown }) => {
            if (e) return fail(e);
            const uri = typeof r?.uri === 'string' ? r.uri : '';
            if (!/^https?:\/\//.test(uri)) return fail(new Error(`no http(s) snapshot URI (${JSON.stringify(r?.uri)})`));
            resolve(uri);
          }) as never);
        });
      } catch (err) {
        fail(err);
      }
    });
  }

  private async get(uri: string): Promise<Buffer> {
    const signal = AbortSignal.timeout(this.limits.timeoutMs);
    const { username, password } = this.src;
    const basic = username ? { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` } : undefined;
    try {
      let res = await fetch(uri, { signal, ...(basic ? { headers: basic } : {}) });
      const challenge = res.headers.get('www-authenticate') ?? '';
      if (res.status === 401 && username && /^digest\s/i.test(challenge)) {
        await res.body?.cancel();
        res = await fetch(uri, { signal, headers: { authorization: digestHeader(challenge, 'GET', new URL(uri), username, password ?? '') } });
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new SnapshotError('auth', `snapshot ${redactUri(uri)}: HTTP ${res.status} (credentials refused)`);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new SnapshotError('http', `snapshot ${redactUri(uri)}: HTTP ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > this.limits.maxBytes) {
        await res.body?.cancel();
        throw new SnapshotError('too_large', `snapshot of ${declared} bytes is over the ${this.limits.maxBytes}-byte cap`);
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
        n += c.length;
        if (n > this.limits.maxBytes) throw new SnapshotError('too_large', `snapshot is over the ${this.limits.maxBytes}-byte cap`);
        chunks.push(Buffer.from(c));
      }
      const jpeg = Buffer.concat(chunks);
      if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new SnapshotError('not_jpeg', `snapshot ${redactUri(uri)} is not a JPEG (${res.headers.get('content-type') ?? 'no content type'})`);
      return jpeg;
    } catch (err) {
      if (err instanceof SnapshotError) throw err;
      if ((err as Error).name === 'TimeoutError') throw new SnapshotError('timeout', `snapshot ${redactUri(uri)}: no answer within ${this.limits.timeoutMs} ms`);
      throw new SnapshotError('http', `snapshot ${redactUri(uri)}: ${(err as Error).message}`);
    }
  }
}

function redactUri(uri: string): string {
  const u = new URL(uri);
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

/** RFC 7616 Digest (MD5, qop auth or none) answering one challenge. */
export function digestHeader(challenge: string, method: string, url: URL, username: string, password: string): string {
  const p: Record<string, string> = {};
  for (const m of challenge.replace(/^digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  const algorithm = (p.algorithm ?? 'MD5').toUpperCase();
  const hash = (s: string) => createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(s).digest('hex');
  const uri = url.pathname + url.search;
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const qop = (p.qop ?? '').split(',').map((s) => s.trim()).includes('auth') ? 'auth' : undefined;
  const ha1 = hash(`${username}:${p.realm ?? ''}:${password}`);
  const ha2 = hash(`${method}:${uri}`);
  const response = qop ? hash(`${ha1}:${p.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : hash(`${ha1}:${p.nonce}:${ha2}`);
  const parts = [`username="${username}"`, `realm="${p.realm ?? ''}"`, `nonce="${p.nonce ?? ''}"`, `uri="${uri}"`, `response="${response}"`, `algorithm=${algorithm}`];
  if (p.opaque !== undefined) parts.push(`opaque="${p.opaque}"`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${parts.join(', ')}`;
}
