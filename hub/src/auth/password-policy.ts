import { PASSWORD_MIN_LENGTH } from '@warden/contract';

/** A small list of passwords every guessing tool tries first (lower-cased; compared case-insensitively). */
const COMMON = new Set([
  '123456789012', '1234567890123', 'password1234', 'password12345', 'passwordpassword', 'qwertyuiop12', 'qwertyuiopasdf',
  '111111111111', '000000000000', 'abc123456789', 'iloveyou1234', 'admin1234567', 'administrator', 'adminadmin123',
  'welcome12345', 'changeme1234', 'letmein12345', 'p@ssw0rd1234', 'p@ssword1234', 'warden123456', 'wardenwarden',
  'a1b2c3d4e5f6', 'qazwsxedcrfv', '1q2w3e4r5t6y', 'zaq12wsxcde3', 'woaini123456', 'woaini520520', '5201314520',
  'aaaaaaaaaaaa', 'abcdefghijkl', 'security1234', 'campus123456', 'default12345', 'test12345678', 'password@123',
]);

/** Why this password is refused, or null when it is acceptable (min 12 characters, not the username, not common). */
export function passwordProblem(password: string, username: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `at least ${PASSWORD_MIN_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (lower.includes(username.toLowerCase())) return 'it contains the username';
  if (COMMON.has(lower)) return 'it is a commonly used password';
  if (new Set(lower).size < 4) return 'too few different characters';
  return null;
}
