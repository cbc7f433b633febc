const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID: 48-bit millisecond time + 80 random bits, Crockford base32. Globally unique like a UUID,
 * but sorts by creation time, which keeps the hub's id index append-mostly.
 */
export function newId(now = Date.now()): string {
  let out = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  // Web Crypto: present in Node 20 and in browsers, so the console can share this module.
  const r = globalThis.crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 16; i++) out += ALPHABET[r[i]! % 32];
  return out;
}
