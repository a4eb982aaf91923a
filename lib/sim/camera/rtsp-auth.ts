/**
 * Server side of RTSP authentication (RFC 2326 §D.2 borrows HTTP's, RFC 2617): Basic, and
 * Digest MD5 without qop, the form IP cameras use. Both are offered; the client picks.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Parses `k="v", k2=v2` auth parameters. */
export function parseAuthParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return out;
}

export class RtspAuthenticator {
  readonly realm = 'SimulatedCamera';
  private readonly nonce = randomBytes(16).toString('hex');

  constructor(private readonly username: string, private readonly password: string) {}

  /** The WWW-Authenticate values of a 401. */
  challenges(): string[] {
    return [`Digest realm="${this.realm}", nonce="${this.nonce}", algorithm=MD5`, `Basic realm="${this.realm}"`];
  }

  /** True when the Authorization header proves the configured credentials for this method. */
  verify(method: string, authorization: string | undefined): boolean {
    if (!authorization) return false;
    const space = authorization.indexOf(' ');
    if (space < 0) return false;
    const scheme = authorization.slice(0, space).toLowerCase();
    const rest = authorization.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      return sameText(decoded, `${this.username}:${this.password}`);
    }
    if (scheme === 'digest') {
      const p = parseAuthParams(rest);
      if (p.username !== this.username || p.realm !== this.realm || p.nonce !== this.nonce || !p.uri || !p.response) return false;
      const ha1 = md5(`${this.username}:${this.realm}:${this.password}`);
      const ha2 = md5(`${method}:${p.uri}`);
      const expected = p.qop && p.nc && p.cnonce
        ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`)
        : md5(`${ha1}:${p.nonce}:${ha2}`);
      return sameText(expected, p.response.toLowerCase());
    }
    return false;
  }
}
