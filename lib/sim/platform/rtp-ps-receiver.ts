/**
 * The media side of the emulator, standing in for ZLMediaKit's RTP server: receives RTP over UDP,
 * over TCP where the device connects (tcp-passive offer) or where we connect (tcp-active offer),
 * strips RFC 4571 2-byte length framing on TCP, records each RTP header (RFC 3550 §5.1) and appends
 * the payload (MPEG-PS) to an output file or stream.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import { GatewayError } from '../../errors';
import { MediaTransportMode } from './wvp-sdp';

export interface RtpPacketRecord {
  seq: number;
  ts: number;
  marker: boolean;
  pt: number;
  ssrc: number;
  size: number;
  at: number;
}

export const MAX_PACKET_RECORDS = 200_000;

/** Parses an RTP header; undefined for anything that is not RTP version 2 with a sane layout. */
export function parseRtpPacket(buf: Buffer): { record: Omit<RtpPacketRecord, 'at'>; payload: Buffer } | undefined {
  if (buf.length < 12 || buf[0] >> 6 !== 2) return undefined;
  const padding = (buf[0] & 0x20) !== 0;
  const extension = (buf[0] & 0x10) !== 0;
  const csrcCount = buf[0] & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (extension) {
    if (buf.length < offset + 4) return undefined;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (padding) end -= buf[buf.length - 1];
  if (offset > end) return undefined;
  return {
    record: { seq: buf.readUInt16BE(2), ts: buf.readUInt32BE(4), marker: (buf[1] & 0x80) !== 0, pt: buf[1] & 0x7f, ssrc: buf.readUInt32BE(8), size: buf.length },
    payload: buf.subarray(offset, end),
  };
}

/** RFC 4571 §2: each RTP packet on a stream is preceded by its 16-bit length. */
export class Rfc4571Deframer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let offset = 0;
    while (this.pending.length - offset >= 2) {
      const len = this.pending.readUInt16BE(offset);
      if (this.pending.length - offset - 2 < len) break;
      out.push(this.pending.subarray(offset + 2, offset + 2 + len));
      offset += 2 + len;
    }
    this.pending = this.pending.subarray(offset);
    return out;
  }
}

export interface RtpPsReceiverEvents {
  rtp: [record: RtpPacketRecord];
  connected: [peer: string];
  error: [error: Error];
}

export class RtpPsReceiver extends EventEmitter<RtpPsReceiverEvents> {
  readonly packets: RtpPacketRecord[] = [];
  psBytes = 0;
  firstPacketAt?: number;
  /** Datagrams or frames that were not RTP. */
  rejected = 0;
  /** Every RTP packet received (the `packets` log is capped, this is not). */
  packetCount = 0;
  /** Sequence numbers skipped (RFC 3550 §A.3, counted per gap, late packets not subtracted). */
  lostPackets = 0;
  /** Packets older than the highest sequence seen (reordered or duplicated). */
  latePackets = 0;
  lastPacketAt?: number;
  private highestSeq?: number;
  private udp?: dgram.Socket;
  private server?: net.Server;
  private readonly streams = new Set<net.Socket>();
  private output?: NodeJS.WritableStream;
  private ownsOutput = false;
  private closed = false;
  private localPort = 0;

  constructor(readonly mode: MediaTransportMode, private readonly host: string, output?: string | NodeJS.WritableStream) {
    super();
    if (typeof output === 'string') {
      this.output = fs.createWriteStream(output);
      this.ownsOutput = true;
    } else this.output = output;
  }

  get port(): number {
    return this.localPort;
  }

  /** Binds (udp) or listens (tcp-passive) on the first free port of the range; tcp-active only reserves a number. */
  async open(range: [number, number] | undefined): Promise<number> {
    const candidates = range ? Array.from({ length: range[1] - range[0] + 1 }, (_, i) => range[0] + i) : [0];
    for (const port of candidates) {
      try {
        this.localPort = await this.tryOpen(port);
        return this.localPort;
      } catch {
        // port busy: try the next one of the range
      }
    }
    throw new GatewayError('PLATFORM_MEDIA_PORT', `no free media port in ${range ? range.join('-') : 'ephemeral range'}`);
  }

  private async tryOpen(port: number): Promise<number> {
    if (this.mode === 'udp') {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, this.host, () => {
          sock.off('error', reject);
          resolve();
        });
      }).catch((e: unknown) => {
        sock.close();
        throw e;
      });
      sock.on('error', (e) => this.emit('error', e));
      sock.on('message', (buf) => this.onPacket(buf));
      this.udp = sock;
      return sock.address().port;
    }
    // tcp-active also listens on its port: it keeps the number ours, and a device that connects anyway is served.
    const server = net.createServer((s) => this.adoptStream(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  /** tcp-active: connect to the device's answer address right after its 200 (ZLM connectRtpServer). */
  async connect(host: string, port: number, timeoutMs = 3000): Promise<void> {
    const sock = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connect timeout')), timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }).catch((e: unknown) => {
      sock.destroy();
      throw new GatewayError('PLATFORM_MEDIA_CONNECT', `cannot connect media to ${host}:${port}: ${String(e)}`, { peer: `${host}:${port}` });
    });
    this.adoptStream(sock);
  }

  private adoptStream(sock: net.Socket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    this.streams.add(sock);
    this.emit('connected', `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`);
    const deframer = new Rfc4571Deframer();
    sock.on('data', (chunk: Buffer) => {
      for (const frame of deframer.push(chunk)) this.onPacket(frame);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.streams.delete(sock));
  }

  private onPacket(buf: Buffer): void {
    if (this.closed) return;
    const parsed = parseRtpPacket(buf);
    if (!parsed) {
      this.rejected++;
      return;
    }
    const record: RtpPacketRecord = { ...parsed.record, at: Date.now() };
    if (this.firstPacketAt === undefined) this.firstPacketAt = record.at;
    this.lastPacketAt = record.at;
    this.packetCount++;
    if (this.highestSeq === undefined) this.highestSeq = record.seq;
    else {
      const delta = (record.seq - this.highestSeq) & 0xffff;
      if (delta === 0 || delta >= 0x8000) this.latePackets++;
      else {
        this.lostPackets += delta - 1;
        this.highestSeq = record.seq;
      }
    }
    if (this.packets.length < MAX_PACKET_RECORDS) this.packets.push(record);
    this.psBytes += parsed.payload.length;
    if (this.output && parsed.payload.length) this.output.write(Buffer.from(parsed.payload));
    this.emit('rtp', record);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const out = this.output;
    this.output = undefined;
    if (out && this.ownsOutput) await new Promise<void>((resolve) => out.end(() => resolve()));
  }
}
