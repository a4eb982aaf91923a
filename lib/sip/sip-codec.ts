/**
 * SIP message parsing and serialization: the `sip` package's parser and serializer behind
 * guards for what it gets wrong. It throws or returns half-parsed objects on malformed input,
 * counts Content-Length in characters, and trusts a Content-Length larger than the datagram.
 * Here bodies are bytes (a latin1 string inside the message object, so length = byte count).
 */
import * as sip from 'sip';
import type { SipMessage } from 'sip';

export type { SipMessage, SipAddress, SipVia, SipCSeq, SipAuthHeader } from 'sip';

/** Largest message we accept (UDP datagram or one framed TCP message). */
export const MAX_SIP_MESSAGE_BYTES = 128 * 1024;

export type DecodeResult =
  | { ok: true; message: SipMessage }
  /** `replyable` is set when the message has what a 400 needs (Via, From, To, Call-ID, CSeq of a request). */
  | { ok: false; reason: string; replyable?: SipMessage };

const HEADER_END = Buffer.from('\r\n\r\n');

function hasCoreHeaders(m: SipMessage): boolean {
  const h = m.headers;
  return Array.isArray(h.via) && h.via.length > 0 && typeof h.via[0]?.host === 'string' &&
    typeof h['call-id'] === 'string' && h['call-id'].length > 0 &&
    typeof h.from === 'object' && h.from !== null && typeof h.from.uri === 'string' &&
    typeof h.to === 'object' && h.to !== null && typeof h.to.uri === 'string' &&
    typeof h.cseq === 'object' && h.cseq !== null && Number.isFinite(h.cseq.seq) && typeof h.cseq.method === 'string';
}

/**
 * Decodes one complete message. `streamed` is true for a message framed from TCP, where the
 * framer already cut the body to Content-Length.
 */
export function decodeSipMessage(raw: Buffer, streamed = false): DecodeResult {
  if (raw.length > MAX_SIP_MESSAGE_BYTES) return { ok: false, reason: `message of ${raw.length} bytes exceeds ${MAX_SIP_MESSAGE_BYTES}` };
  const headerEnd = raw.indexOf(HEADER_END);
  if (headerEnd < 0) return { ok: false, reason: 'no end of headers (truncated message)' };
  let message: SipMessage | undefined;
  try {
    // The package parses latin1 strings; its regexes may throw on odd input.
    message = sip.parse(raw.subarray(0, headerEnd + 4).toString('latin1'));
  } catch (e) {
    return { ok: false, reason: `unparseable: ${(e as Error).message}` };
  }
  if (!message || typeof message.headers !== 'object') return { ok: false, reason: 'not a SIP start line or header' };
  if (message.status === undefined && (typeof message.method !== 'string' || typeof message.uri !== 'string')) {
    return { ok: false, reason: 'no method or request-URI' };
  }
  if (message.status !== undefined && !(message.status >= 100 && message.status <= 699)) return { ok: false, reason: `status ${message.status} out of range` };
  if (!hasCoreHeaders(message)) return { ok: false, reason: 'missing or malformed Via/From/To/Call-ID/CSeq' };
  const replyable = message.method ? message : undefined;
  if (message.method && message.headers.cseq && message.headers.cseq.method.toUpperCase() !== message.method.toUpperCase()) {
    return { ok: false, reason: 'CSeq method differs from request method', replyable };
  }
  const body = raw.subarray(headerEnd + 4);
  const declared = message.headers['content-length'];
  let length = body.length;
  if (declared !== undefined) {
    if (!Number.isInteger(declared) || declared < 0) return { ok: false, reason: 'malformed Content-Length', replyable };
    // RFC 3261 §18.3: over UDP a Content-Length larger than the body means a truncated message.
    if (declared > body.length) return { ok: false, reason: `Content-Length ${declared} exceeds the ${body.length} body bytes`, replyable };
    length = declared;
  } else if (streamed) {
    length = 0;
  }
  message.content = body.subarray(0, length).toString('latin1');
  return { ok: true, message };
}

/** Serializes a message without mutating it; Content-Length counts the body's bytes. */
export function encodeSipMessage(message: SipMessage): Buffer {
  const copy: SipMessage = { ...message, headers: { ...message.headers } };
  delete copy.headers['content-length'];
  const text = sip.stringify(copy);
  const end = text.indexOf('\r\n\r\n');
  // The package writes an unnamed address as `From:  <…>`; legal, but tidy it for strict peers.
  const head = text.slice(0, end).replace(/^(From|To|Contact|Route|Record-Route|Refer-To): {2}</gm, '$1: <');
  return Buffer.from(head + text.slice(end), 'latin1');
}

/** The body as bytes. */
export function bodyOf(message: SipMessage): Buffer {
  return Buffer.from(message.content ?? '', 'latin1');
}

/** Sets the body from bytes (encode text with its charset first) and its Content-Type. */
export function setBody(message: SipMessage, body: Buffer, contentType?: string): void {
  message.content = body.toString('latin1');
  if (contentType) message.headers['content-type'] = contentType;
  else if (body.length === 0) delete message.headers['content-type'];
}

/** A header's value as text (first value for repeated generic headers), or undefined. */
export function headerText(message: SipMessage, name: string): string | undefined {
  const v = message.headers[name.toLowerCase()];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** The user part of a `sip:user@host` URI (also of a name-addr's URI). */
export function uriUser(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /^sips?:([^@;>:]+)@/i.exec(uri.trim());
  return m ? m[1] : undefined;
}

export function uriHostPort(uri: string | undefined): { host: string; port?: number } | undefined {
  if (!uri) return undefined;
  const m = /^sips?:(?:[^@]+@)?([^:;>?]+)(?::(\d+))?/i.exec(uri.trim());
  return m ? { host: m[1], port: m[2] ? Number(m[2]) : undefined } : undefined;
}

export function randomToken(bytes = 8): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}

/** A Via branch with the RFC 3261 §8.1.1.7 magic cookie. */
export function newBranch(): string {
  return `z9hG4bK${randomToken(10)}`;
}
