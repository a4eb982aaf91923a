/**
 * A platform stand-in written for the tests, independent of lib/media: receives RTP over UDP or
 * RFC 4571 TCP (listening or connecting), parses the 12-byte RTP header by hand and keeps the
 * payloads so ffmpeg/ffprobe can decode the PS.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export interface ReceivedPacket {
  version: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  size: number;
  at: number;
}

function parseRtp(b: Buffer, at: number): ReceivedPacket {
  const cc = b[0] & 0x0f;
  const ext = (b[0] & 0x10) !== 0;
  let off = 12 + cc * 4;
  if (ext) off += 4 + b.readUInt16BE(off + 2) * 4;
  return {
    version: b[0] >> 6,
    marker: (b[1] & 0x80) !== 0,
    payloadType: b[1] & 0x7f,
    sequence: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: Buffer.from(b.subarray(off)),
    size: b.length,
    at,
  };
}

export class RtpTestReceiver {
  readonly packets: ReceivedPacket[] = [];
  port = 0;
  private udp: dgram.Socket | undefined;
  private server: net.Server | undefined;
  private sockets: net.Socket[] = [];
  private paused = false;
  tcpBytes = 0;
  onPacket: ((p: ReceivedPacket) => void) | undefined;

  private push(b: Buffer): void {
    const p = parseRtp(b, Date.now());
    this.packets.push(p);
    this.onPacket?.(p);
  }

  /** UDP receiver on 127.0.0.1 (what the offer's m= port would be). */
  async listenUdp(): Promise<void> {
    const s = dgram.createSocket('udp4');
    s.on('message', (m) => this.push(m));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    s.setRecvBufferSize(8 * 1024 * 1024);
    this.udp = s;
    this.port = s.address().port;
  }

  /** TCP listener (tcp-passive: the platform listens, the device connects). */
  async listenTcp(): Promise<void> {
    const server = net.createServer((sock) => this.attach(sock));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** TCP connect (tcp-active: the platform connects to the device's announced port). */
  async connectTcp(port: number, options: { paused?: boolean } = {}): Promise<void> {
    const sock = net.connect({ host: '127.0.0.1', port });
    if (options.paused) { this.paused = true; }
    await new Promise<void>((resolve, reject) => { sock.once('connect', () => resolve()); sock.once('error', reject); });
    this.attach(sock);
  }

  /** A paused receiver starts reading (the slow-peer test). */
  resume(): void {
    this.paused = false;
    for (const s of this.sockets) this.read(s);
  }

  private attach(sock: net.Socket): void {
    this.sockets.push(sock);
    sock.on('error', () => undefined);
    if (this.paused) { sock.pause(); return; }
    this.read(sock);
  }

  private read(sock: net.Socket): void {
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      this.tcpBytes += d.length;
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      let o = 0;
      while (pending.length - o >= 2) {
        const len = pending.readUInt16BE(o);
        if (pending.length - o - 2 < len) break;
        this.push(pending.subarray(o + 2, o + 2 + len));
        o += 2 + len;
      }
      pending = Buffer.from(pending.subarray(o));
    });
    sock.resume();
  }

  /** The PS byte stream: every payload in arrival order. */
  psStream(): Buffer {
    return Buffer.concat(this.packets.map((p) => p.payload));
  }

  async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets = [];
    if (this.udp) { this.udp.close(); this.udp = undefined; }
    if (this.server) { const s = this.server; this.server = undefined; await new Promise<void>((r) => s.close(() => r())); }
  }
}
