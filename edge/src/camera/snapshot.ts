import { createHash } from 'node:crypto';

/**
 * Fetches a camera snapshot (the URI from GetSnapshotUri) with HTTP Basic, or Digest when the camera
 * challenges for it; refuses anything that is not a JPEG or is larger than `maxBytes`.
 */
export async function fetchSnapshot(uri: string, username: string, password: string, o: { maxBytes?: number | undefined; timeoutMs?: number } = {}): Promise<Buffer> {
  const max = o.maxBytes ?? 5 * 1024 * 1024;
  const get = (auth: string): Promise<Response> => fetch(uri, { headers: { authorization: auth }, signal: AbortSignal.timeout(o.timeoutMs ?? 5000), redirect: 'error' });
  let r = await get(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
  const challenge = r.headers.get('www-authenticate');
  if (r.status === 401 && challenge && /^Digest/i.test(challenge)) {
    await r.body?.cancel();
    const p = Object.fromEntries([...challenge.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const path = new URL(uri).pathname + new URL(uri).search;
    const nc = '00000001';
    const cnonce = createHash('md5').update(String(Math.random())).digest('hex').slice(0, 16);
    const ha1 = md5(`${username}:${p.realm}:${password}`);
    const ha2 = md5(`GET:${path}`);
    const response = p.qop ? md5(`${ha1}:${p.nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    r = await get(
      `Digest username="${username}", realm="${p.realm}", nonce="${p.nonce}", uri="${path}", response="${response}"` +
        (p.qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '') +
        (p.opaque ? `, opaque="${p.opaque}"` : ''),
    );
  }
  if (r.status !== 200) {
    await r.body?.cancel();
    throw new Error(`snapshot: HTTP ${r.status}`);
  }
  const declared = Number(r.headers.get('content-length') ?? 0);
  if (declared > max) {
    await r.body?.cancel();
    throw new Error(`snapshot: ${declared} bytes is above the ${max} byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new Error(`snapshot: above the ${max} byte limit`);
    chunks.push(Buffer.from(chunk));
  }
  const jpg = Buffer.concat(chunks);
  if (jpg.length < 4 || jpg[0] !== 0xff || jpg[1] !== 0xd8) throw new Error('snapshot: not a JPEG');
  return jpg;
}
