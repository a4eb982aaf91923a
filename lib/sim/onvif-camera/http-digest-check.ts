/**
 * HTTP Digest access authentication as ONVIF devices may require instead of WS-Security (ONVIF Core
 * Spec §5.9.1, RFC 7616 with MD5 and qop=auth): a 401 with a challenge, then a request whose
 * `Authorization` answers it. Nonces are ours and single-realm; nc replay is not tracked (a test camera).
 */
import { createHash, randomBytes } from 'node:crypto';

export const DIGEST_REALM = 'SimCam';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export class HttpDigestCheck {
  private readonly nonces = new Set<string>();

  challenge(): string {
    const nonce = randomBytes(12).toString('hex');
    this.nonces.add(nonce);
    if (this.nonces.size > 1000) this.nonces.delete(this.nonces.values().next().value as string);
    return `Digest realm="${DIGEST_REALM}", qop="auth", nonce="${nonce}", algorithm=MD5`;
  }

  /** True when the header answers one of our challenges for this method and URI with these credentials. */
  verify(header: string | undefined, method: string, creds: { username: string; password: string }): boolean {
    if (!header || !/^Digest\s/i.test(header)) return false;
    const p: Record<string, string> = {};
    for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
    if (p.username !== creds.username || p.realm !== DIGEST_REALM || !p.nonce || !this.nonces.has(p.nonce) || !p.uri) return false;
    const ha1 = md5(`${creds.username}:${DIGEST_REALM}:${creds.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const want = p.qop === 'auth' ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    return want === p.response;
  }
}
