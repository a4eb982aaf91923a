/**
 * HTTP digest for SIP (RFC 2617 §3.2.2 as RFC 3261 §22.4 uses it), the way WVP verifies it:
 * HA1 = MD5(user:realm:password), HA2 = MD5(METHOD:uri); with qop=auth the response is
 * MD5(HA1:nonce:nc:cnonce:auth:HA2), else MD5(HA1:nonce:HA2). We always write `algorithm=MD5`
 * in upper case (the `sip` package writes `md5`, which strict servers refuse).
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm?: string;
}

export interface DigestCredentials {
  username: string;
  password: string;
}

function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

function unquote(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
}

/** Reads a WWW-Authenticate/Proxy-Authenticate header's parameters (as parsed by the sip package, quotes kept). */
export function readChallenge(header: Record<string, string | undefined> | undefined): DigestChallenge | undefined {
  if (!header) return undefined;
  if (header.scheme && header.scheme.toLowerCase() !== 'digest') return undefined;
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(header)) lower[k.toLowerCase()] = v;
  const realm = unquote(lower.realm);
  const nonce = unquote(lower.nonce);
  if (realm === undefined || nonce === undefined) return undefined;
  return { realm, nonce, qop: unquote(lower.qop), opaque: unquote(lower.opaque), algorithm: unquote(lower.algorithm) };
}

export interface DigestAnswer {
  /** The complete header value, `Digest username="…", …`. */
  header: string;
  response: string;
  nc?: string;
  cnonce?: string;
}

/**
 * Computes the Authorization value. `nc` counts uses of this nonce (RFC 2617 §3.2.2: 8 hex
 * digits; WVP formats it with %08x and upper-cases it, case does not matter to its check).
 */
export function digestAuthorization(method: string, uri: string, challenge: DigestChallenge, creds: DigestCredentials, nc = 1, cnonce?: string): DigestAnswer {
  const ha1 = md5(`${creds.username}:${challenge.realm}:${creds.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const qops = (challenge.qop ?? '').split(',').map((s) => s.trim().toLowerCase());
  const useQop = qops.includes('auth');
  const parts = [`username="${creds.username}"`, `realm="${challenge.realm}"`, `nonce="${challenge.nonce}"`, `uri="${uri}"`];
  let response: string;
  let ncText: string | undefined;
  if (useQop) {
    ncText = nc.toString(16).padStart(8, '0');
    cnonce = cnonce ?? randomBytes(8).toString('hex');
    response = md5(`${ha1}:${challenge.nonce}:${ncText}:${cnonce}:auth:${ha2}`);
    parts.push(`response="${response}"`, `algorithm=MD5`, `qop=auth`, `nc=${ncText}`, `cnonce="${cnonce}"`);
  } else {
    response = md5(`${ha1}:${challenge.nonce}:${ha2}`);
    parts.push(`response="${response}"`, `algorithm=MD5`);
    cnonce = undefined;
  }
  if (challenge.opaque !== undefined) parts.push(`opaque="${challenge.opaque}"`);
  return { header: `Digest ${parts.join(', ')}`, response, nc: ncText, cnonce };
}
