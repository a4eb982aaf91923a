/**
 * Server-side MD5 digest as WVP-GB28181-pro does it (gb28181/auth/DigestServerAuthenticationHelper):
 * the challenge carries realm = SIP domain, qop="auth", a fresh MD5 nonce and algorithm=MD5; the check
 * recomputes the response from the Authorization header alone (nonce not remembered, username not
 * compared with the device ID), with nc formatted `%08x` upper-cased (RFC 2617 §3.2.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { splitOutsideQuotes } from './sip-text-codec';

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

export function newDigestNonce(): string {
  return md5(`${Date.now()}${randomBytes(8).readBigInt64BE()}`);
}

/** `WWW-Authenticate` value of the 401 (qop omitted when `qop` is false). */
export function digestChallenge(realm: string, qop: boolean, nonce = newDigestNonce()): string {
  return qop
    ? `Digest realm="${realm}", qop="auth", nonce="${nonce}", algorithm=MD5`
    : `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5`;
}

/** Parameters of an `Authorization: Digest k=v, ...` header, quotes removed. */
export function parseDigestParams(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const body = header.replace(/^\s*Digest\s+/i, '');
  for (const part of splitOutsideQuotes(body, ',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/** True when the Authorization header proves `password` for `method` (WVP's doAuthenticatePlainTextPassword). */
export function verifyDigestResponse(method: string, authorization: string, password: string): boolean {
  const p = parseDigestParams(authorization);
  if (p.realm === undefined || p.username === undefined || p.uri === undefined || p.response === undefined) return false;
  const ha1 = md5(`${p.username.trim()}:${p.realm.trim()}:${password}`);
  const ha2 = md5(`${method.toUpperCase()}:${p.uri}`);
  let kd = `${ha1}:${p.nonce ?? ''}`;
  if (p.qop !== undefined && p.qop.toLowerCase() === 'auth') {
    if (p.nc !== undefined) {
      const nc = parseInt(p.nc, 16);
      if (Number.isFinite(nc)) kd += ':' + nc.toString(16).padStart(8, '0').toUpperCase();
    }
    if (p.cnonce !== undefined) kd += ':' + p.cnonce;
    kd += ':' + p.qop;
  }
  kd += ':' + ha2;
  return md5(kd) === p.response;
}
