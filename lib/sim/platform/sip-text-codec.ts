/**
 * A deliberately small SIP text codec for the platform emulator (RFC 3261 §7). It shares nothing
 * with the device side's SIP stack, so a parsing bug there cannot hide behind the same parser here.
 * Bodies stay raw bytes: Content-Length counts bytes (RFC 3261 §20.14), never characters.
 */

export interface SipHeaderField {
  name: string;
  value: string;
}

interface SipMessageBase {
  headers: SipHeaderField[];
  body: Buffer;
}

export interface SipRequest extends SipMessageBase {
  kind: 'request';
  method: string;
  uri: string;
}

export interface SipResponse extends SipMessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export class SipParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipParseError';
  }
}

/** RFC 3261 §7.3.3 compact header names. */
const COMPACT_NAMES: Record<string, string> = {
  i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', c: 'Content-Type', f: 'From',
  s: 'Subject', k: 'Supported', t: 'To', v: 'Via', o: 'Event', u: 'Allow-Events', r: 'Refer-To', b: 'Referred-By',
  x: 'Session-Expires',
};

const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/** Full header name for a compact or differently cased one (compared case-insensitively anyway). */
export function expandHeaderName(name: string): string {
  const trimmed = name.trim();
  return COMPACT_NAMES[trimmed.toLowerCase()] ?? trimmed;
}

function sameHeader(a: string, b: string): boolean {
  return expandHeaderName(a).toLowerCase() === expandHeaderName(b).toLowerCase();
}

/** The first value of a header, compact forms included. */
export function headerValue(msg: SipMessage, name: string): string | undefined {
  return msg.headers.find((h) => sameHeader(h.name, name))?.value;
}

/** Every value of a header; comma-joined values are split outside quotes and angle brackets. */
export function headerValues(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const h of msg.headers) if (sameHeader(h.name, name)) out.push(...splitOutsideQuotes(h.value, ','));
  return out;
}

export function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle++;
    else if (!quoted && ch === '>') angle = Math.max(0, angle - 1);
    if (ch === separator && !quoted && angle === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** A `;name=value` parameter of a header value (outside its `<...>` URI); `''` for a flag, undefined if absent. */
export function headerParam(value: string, name: string): string | undefined {
  const close = value.lastIndexOf('>');
  const tail = close >= 0 ? value.slice(close + 1) : value;
  for (const part of splitOutsideQuotes(tail, ';').slice(close >= 0 ? 0 : 1)) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === name.toLowerCase()) return eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`) or the addr-spec itself. */
export function addressUri(value: string): string {
  const open = value.indexOf('<');
  const close = value.indexOf('>', open + 1);
  if (open >= 0 && close > open) return value.slice(open + 1, close).trim();
  return value.split(';')[0].trim();
}

/** User part of a SIP URI (`sip:3402...@host` → `3402...`). */
export function uriUser(uri: string): string | undefined {
  const m = /^sips?:([^@;>]+)@/i.exec(uri.trim());
  return m ? m[1] : undefined;
}

/** Host and port of a SIP URI's hostport. */
export function uriHostPort(uri: string): { host: string; port?: number } {
  const noScheme = uri.replace(/^sips?:/i, '');
  const hostport = noScheme.slice(noScheme.indexOf('@') + 1).split(/[;?>]/)[0];
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(hostport);
  if (!m) return { host: hostport };
  return { host: m[1], port: m[2] ? Number(m[2]) : undefined };
}

function parseStartLine(line: string): Pick<SipRequest, 'kind' | 'method' | 'uri'> | Pick<SipResponse, 'kind' | 'status' | 'reason'> {
  const response = /^SIP\/2\.0\s+(\d{3})(?:\s+(.*))?$/i.exec(line);
  if (response) return { kind: 'response', status: Number(response[1]), reason: response[2] ?? '' };
  const request = /^([A-Za-z]+)\s+(\S+)\s+SIP\/2\.0$/i.exec(line);
  if (request) return { kind: 'request', method: request[1].toUpperCase(), uri: request[2] };
  throw new SipParseError(`bad start line: ${line.slice(0, 80)}`);
}

/** Parses the header block (start line + headers, no blank line). */
function parseHead(head: string): { start: ReturnType<typeof parseStartLine>; headers: SipHeaderField[] } {
  const lines = head.split(/\r?\n/);
  while (lines.length && lines[0] === '') lines.shift();
  if (!lines.length) throw new SipParseError('empty message');
  const start = parseStartLine(lines[0].trim());
  const headers: SipHeaderField[] = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && headers.length) {
      // RFC 3261 §7.3.1 header folding.
      headers[headers.length - 1].value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError(`bad header line: ${line.slice(0, 80)}`);
    headers.push({ name: expandHeaderName(line.slice(0, colon)), value: line.slice(colon + 1).trim() });
  }
  return { start, headers };
}

function findHeadEnd(buf: Buffer, from = 0): { headEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from, 'latin1');
  const lf = buf.indexOf('\n\n', from, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { headEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

function contentLength(headers: SipHeaderField[]): number | undefined {
  const raw = headers.find((h) => h.name.toLowerCase() === 'content-length')?.value;
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new SipParseError(`bad Content-Length: ${raw}`);
  const n = Number(raw);
  if (n > MAX_BODY_BYTES) throw new SipParseError(`Content-Length ${n} over the ${MAX_BODY_BYTES}-byte cap`);
  return n;
}

function assemble(start: ReturnType<typeof parseStartLine>, headers: SipHeaderField[], body: Buffer): SipMessage {
  if (start.kind === 'request') return { ...start, headers, body };
  return { ...start, headers, body };
}

/** Parses one datagram. A Content-Length larger than the bytes present is an error (truncated datagram). */
export function parseSipDatagram(buf: Buffer): SipMessage {
  const ends = findHeadEnd(buf);
  const headText = (ends ? buf.subarray(0, ends.headEnd) : buf).toString('utf8');
  if (headText.length > MAX_HEADER_BYTES) throw new SipParseError('header block too large');
  const { start, headers } = parseHead(headText);
  const rest = ends ? buf.subarray(ends.bodyStart) : Buffer.alloc(0);
  const length = contentLength(headers);
  if (length !== undefined && length > rest.length) throw new SipParseError(`body shorter (${rest.length}) than Content-Length ${length}`);
  return assemble(start, headers, Buffer.from(length === undefined ? rest : rest.subarray(0, length)));
}

/**
 * Splits a TCP byte stream into SIP messages by Content-Length (RFC 3261 §18.3). CRLF keep-alives
 * between messages (RFC 5626 §3.5.1) are skipped; a missing Content-Length means an empty body.
 */
export class SipStreamFramer {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SipMessage[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: SipMessage[] = [];
    for (;;) {
      let skip = 0;
      while (skip < this.buffer.length && (this.buffer[skip] === 0x0d || this.buffer[skip] === 0x0a)) skip++;
      if (skip) this.buffer = this.buffer.subarray(skip);
      if (!this.buffer.length) break;
      const ends = findHeadEnd(this.buffer);
      if (!ends) {
        if (this.buffer.length > MAX_HEADER_BYTES) {
          this.buffer = Buffer.alloc(0);
          throw new SipParseError('header block too large on stream');
        }
        break;
      }
      const { start, headers } = parseHead(this.buffer.subarray(0, ends.headEnd).toString('utf8'));
      const length = contentLength(headers) ?? 0;
      if (this.buffer.length < ends.bodyStart + length) break;
      out.push(assemble(start, headers, Buffer.from(this.buffer.subarray(ends.bodyStart, ends.bodyStart + length))));
      this.buffer = this.buffer.subarray(ends.bodyStart + length);
    }
    return out;
  }
}

/** Serialises a message; Content-Length is always rewritten from the body's byte length. */
export function serializeSipMessage(msg: SipMessage): Buffer {
  const startLine = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines = [startLine];
  for (const h of msg.headers) if (h.name.toLowerCase() !== 'content-length') lines.push(`${h.name}: ${h.value}`);
  lines.push(`Content-Length: ${msg.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), msg.body]);
}
