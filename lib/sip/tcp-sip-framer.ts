/**
 * Cuts a TCP byte stream into SIP messages by bytes (RFC 3261 §18.3: Content-Length frames a
 * message on a stream). The `sip` package frames on characters, drops messages without
 * Content-Length silently and buffers without bound; this framer does neither.
 */
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

export class SipFramingError extends Error {}

export class TcpSipFramer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBodyBytes: number) {}

  /** Adds bytes; returns the complete messages found. Throws SipFramingError when the stream cannot be resynchronized. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      // RFC 5626 keepalives (CRLF) and stray line ends between messages.
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a)) start++;
      if (start) this.buffer = this.buffer.subarray(start);
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES) throw new SipFramingError(`no end of headers within ${MAX_HEADER_BYTES} bytes`);
        return out;
      }
      if (end > MAX_HEADER_BYTES) throw new SipFramingError(`headers longer than ${MAX_HEADER_BYTES} bytes`);
      const head = this.buffer.subarray(0, end).toString('latin1');
      const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
      let length = 0;
      if (m) {
        const v = m[1].trim();
        if (!/^\d+$/.test(v)) throw new SipFramingError(`malformed Content-Length "${v.slice(0, 20)}"`);
        length = Number(v);
        if (length > this.maxBodyBytes) throw new SipFramingError(`Content-Length ${length} exceeds ${this.maxBodyBytes}`);
      }
      const total = end + 4 + length;
      if (this.buffer.length < total) return out;
      out.push(Buffer.from(this.buffer.subarray(0, total)));
      this.buffer = this.buffer.subarray(total);
    }
  }
}
