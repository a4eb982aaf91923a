/**
 * A TCP proxy between ffmpeg and an RTSP camera (RTSP over TCP, RFC 2326 §10.12 interleaved
 * `$`-frames) that notes when the last RTP packet of each video frame passed, with its RTP
 * timestamp and whether it was an H.264 IDR: the "camera frame in" instant for latency figures.
 */
import * as net from 'node:net';

export interface TappedFrame {
  rtpTimestamp: number;
  at: number;
  keyframe: boolean;
}

export class RtspInterleavedTap {
  readonly frames: TappedFrame[] = [];
  port = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly cameraPort: number, private readonly videoChannel = 0) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => this.proxy(client));
    await new Promise<void>((r) => (this.server as net.Server).listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private proxy(client: net.Socket): void {
    const camera = net.connect({ host: '127.0.0.1', port: this.cameraPort });
    this.sockets.add(client).add(camera);
    client.on('error', () => camera.destroy());
    camera.on('error', () => client.destroy());
    client.on('close', () => camera.destroy());
    camera.on('close', () => client.destroy());
    client.pipe(camera);
    let buf: Buffer = Buffer.alloc(0);
    let sawKey = false;
    camera.on('data', (d: Buffer) => {
      client.write(d);
      const now = performance.now();
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let o = 0;
      for (;;) {
        if (buf.length - o < 4) break;
        if (buf[o] === 0x24) {
          const len = buf.readUInt16BE(o + 2);
          if (buf.length - o - 4 < len) break;
          if (buf[o + 1] === this.videoChannel && len >= 14) {
            const rtp = buf.subarray(o + 4, o + 4 + len);
            const cc = rtp[0] & 0x0f;
            const p = rtp.subarray(12 + cc * 4);
            const t = p[0] & 0x1f;
            const nal = t === 28 ? p[1] & 0x1f : t === 24 ? p[3] & 0x1f : t;
            if (nal === 5 || nal === 7) sawKey = true;
            if (rtp[1] & 0x80) {
              this.frames.push({ rtpTimestamp: rtp.readUInt32BE(4), at: now, keyframe: sawKey });
              sawKey = false;
              if (this.frames.length > 5000) this.frames.splice(0, 1000);
            }
          }
          o += 4 + len;
        } else {
          const end = buf.indexOf('\r\n\r\n', o);
          if (end < 0) break;
          const head = buf.subarray(o, end).toString('latin1');
          const body = Number(/Content-Length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + body) break;
          o = end + 4 + body;
        }
      }
      buf = Buffer.from(buf.subarray(o));
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => (this.server as net.Server).close(() => r()));
  }
}
