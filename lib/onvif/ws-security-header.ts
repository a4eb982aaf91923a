/**
 * Our WS-Security UsernameToken header for the `onvif` package's SOAP envelopes. The package's own
 * `_envelopeHeader` digests the password as ASCII (a non-ASCII password never matches; the OASIS
 * UsernameToken Profile §3.1 and ONVIF Core §5.12.2 hash its UTF-8 bytes), pastes the user name into
 * the XML unescaped (an `&` breaks every request), and draws the nonce from Math.random. We replace
 * that one method on our Cam instance with the same envelope, built correctly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Cam } from 'onvif';
import { xmlText } from './onvif-reply';

const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const BASE64_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** Base64(SHA-1(nonce + created + password)), the password as UTF-8. */
export function usernameTokenDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

export function usernameTokenXml(username: string, password: string, created: string, nonce: Buffer = randomBytes(16)): string {
  return (
    `<Security s:mustUnderstand="1" xmlns="${WSSE_NS}"><UsernameToken>` +
    `<Username>${xmlText(username)}</Username>` +
    `<Password Type="${DIGEST_TYPE}">${usernameTokenDigest(nonce, created, password)}</Password>` +
    `<Nonce EncodingType="${BASE64_TYPE}">${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="${WSU_NS}">${created}</Created>` +
    '</UsernameToken></Security>'
  );
}

interface EnvelopeHeaderHost {
  _envelopeHeader?: unknown;
  timeShift?: number;
}

/**
 * Installs our header builder on one Cam. Returns false (and changes nothing) if the package no longer
 * has the method we replace, so an upgrade shows in a log line instead of failing silently.
 */
export function installWsSecurityHeader(cam: Cam, username: string | undefined, password: string | undefined): boolean {
  const host = cam as unknown as EnvelopeHeaderHost;
  if (typeof host._envelopeHeader !== 'function') return false;
  host._envelopeHeader = (openHeader?: boolean): string => {
    let header = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>';
    if (username && password) {
      // Created on the camera's clock: the offset comes from GetSystemDateAndTime, as the package does.
      const created = new Date(process.uptime() * 1000 + (host.timeShift ?? Date.now() - process.uptime() * 1000)).toISOString();
      header += usernameTokenXml(username, password, created);
    }
    if (!openHeader) header += '</s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">';
    return header;
  };
  return true;
}
