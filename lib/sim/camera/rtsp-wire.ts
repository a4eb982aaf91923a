/**
 * RTSP/1.0 framing on one TCP connection (RFC 2326 §6, §7, §10.12): text requests with
 * optional bodies, interleaved binary frames (`$`, channel, 16-bit length) between them.
 */
export interface RtspRequest {
  method: string;
  uri: string;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface InterleavedFrame {
  channel: number;
  data: Buffer;
}

/** Requests larger than this are a broken or hostile peer: the connection is dropped. */
const MAX_HEADER_BYTES = 16 * 1024;

export class RtspRequestReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onRequest: (request: RtspRequest) => void,
    private readonly onFrame: (frame: InterleavedFrame) => void,
  ) {}

  /** Feeds bytes; throws on a malformed stream (the caller closes the connection). */
  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.buffer.length === 0) return;
      if (this.buffer[0] === 0x24) {
        if (this.buffer.length < 4) return;
        const len = this.buffer.readUInt16BE(2);
        if (this.buffer.length < 4 + len) return;
        const frame = { channel: this.buffer[1], data: this.buffer.subarray(4, 4 + len) };
        this.buffer = this.buffer.subarray(4 + len);
        this.onFrame(frame);
        continue;
      }
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES) throw new Error('RTSP request header too long');
        return;
      }
      const lines = this.buffer.subarray(0, end).toString('utf8').split('\r\n');
      const m = /^([A-Z_]+) (\S+) RTSP\/1\.0$/.exec(lines[0].trim());
      if (!m) throw new Error(`malformed RTSP request line: ${lines[0].slice(0, 80)}`);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? '0');
      if (!Number.isFinite(length) || length < 0 || length > MAX_HEADER_BYTES) throw new Error('bad Content-Length');
      if (this.buffer.length < end + 4 + length) return;
      const body = this.buffer.subarray(end + 4, end + 4 + length);
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.onRequest({ method: m[1], uri: m[2], headers, body });
    }
  }
}

export const RTSP_REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Serialises a response; `headers` may repeat a name by giving an array. */
export function formatRtspResponse(status: number, cseq: string | undefined, headers: Record<string, string | string[]>, body?: string): Buffer {
  const lines = [`RTSP/1.0 ${status} ${RTSP_REASONS[status] ?? 'Error'}`];
  if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
  lines.push(`Date: ${new Date().toUTCString()}`, 'Server: node-red-contrib-gb28181 simulated camera');
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  const bodyBuf = body ? Buffer.from(body, 'utf8') : undefined;
  if (bodyBuf) lines.push(`Content-Length: ${bodyBuf.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
  return bodyBuf ? Buffer.concat([head, bodyBuf]) : head;
}

/** Parses `RTP/AVP/TCP;unicast;interleaved=0-1` style transport specs (RFC 2326 §12.39); first acceptable one wins. */
export interface TransportRequest {
  kind: 'tcp' | 'udp';
  interleaved?: [number, number];
  clientPorts?: [number, number];
  multicast: boolean;
}

function pair(value: string | undefined): [number, number] | undefined {
  if (!value) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (!m) return undefined;
  const a = Number(m[1]);
  return [a, m[2] !== undefined ? Number(m[2]) : a + 1];
}

export function parseTransports(header: string): TransportRequest[] {
  const out: TransportRequest[] = [];
  for (const spec of header.split(',')) {
    const parts = spec.trim().split(';').map((p) => p.trim());
    const proto = parts[0].toUpperCase();
    const params: Record<string, string> = {};
    for (const p of parts.slice(1)) {
      const eq = p.indexOf('=');
      params[(eq < 0 ? p : p.slice(0, eq)).toLowerCase()] = eq < 0 ? '' : p.slice(eq + 1);
    }
    const multicast = 'multicast' in params;
    if (proto === 'RTP/AVP/TCP') out.push({ kind: 'tcp', interleaved: pair(params.interleaved), multicast });
    else if (proto === 'RTP/AVP' || proto === 'RTP/AVP/UDP') out.push({ kind: 'udp', clientPorts: pair(params.client_port), multicast });
  }
  return out;
}
