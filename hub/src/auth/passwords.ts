import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes): the OWASP baseline. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A corrupt hash in the database is a refusal, not a crash.
    return false;
  }
}

let dummy: Promise<string> | undefined;
/**
 * Spends the same time as a real check, so an unknown name cannot be told from a wrong password by timing.
 */
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hash(randomBytes(16).toString('hex'));
  await verifyPassword(await dummy, password);
  return false;
}

export function randomPassword(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}
