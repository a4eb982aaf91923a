/**
 * WS-Security UsernameToken verification as an ONVIF device does it (ONVIF Core Spec §5.12.2, OASIS
 * UsernameToken Profile 1.0 §3.1): PasswordDigest = Base64(SHA-1(nonce + created + password)), the nonce
 * Base64-decoded first; `Created` must be near the device clock so a captured header cannot be replayed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface UsernameTokenFields {
  username?: string;
  password?: string;
  passwordType?: string;
  nonce?: string;
  created?: string;
}

export type TokenVerdict = { ok: true } | { ok: false; reason: string };

const DIGEST_TYPE_SUFFIX = '#PasswordDigest';
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export function passwordDigest(nonceBase64: string, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonceBase64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

export function verifyUsernameToken(t: UsernameTokenFields | undefined, expected: { username: string; password: string }, now: number = Date.now()): TokenVerdict {
  if (!t || t.username === undefined) return { ok: false, reason: 'no UsernameToken' };
  if (t.username !== expected.username) return { ok: false, reason: 'unknown user' };
  if (!t.passwordType || !t.passwordType.endsWith(DIGEST_TYPE_SUFFIX)) return { ok: false, reason: 'password type is not PasswordDigest' };
  if (!t.nonce || !t.created || !t.password) return { ok: false, reason: 'nonce, created or password missing' };
  const created = Date.parse(t.created);
  if (!Number.isFinite(created) || Math.abs(created - now) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'Created outside the clock window' };
  const want = Buffer.from(passwordDigest(t.nonce, t.created, expected.password));
  const got = Buffer.from(t.password);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: 'digest mismatch' };
  return { ok: true };
}
