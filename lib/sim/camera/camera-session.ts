/**
 * One RTSP session of the simulated camera (RFC 2326 §3.1): the tracks a client set up, how each is
 * carried (interleaved on its TCP connection, RFC 2326 §10.12, or UDP to its client_port pair), and
 * per-track RTP sequence numbers that are continuous for this client whatever it joined on.
 *
 * If the encoder is restarted under a playing client, the new run's packets are rewritten onto the
 * client's stream: same SSRC, continuous sequence numbers, timestamps advanced by the wall-clock gap
 * (RFC 3550 §5.1), and its sender reports mapped the same way, so the client sees a pause, not a new stream.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { FeedPacket, StreamFeed } from './stream-feed';

export type SessionTransportKind = 'tcp' | 'udp';

export interface SessionTrack {
  index: number;
  kind: SessionTransportKind;
  /** Interleaved channels (TCP). */
  channels?: [number, number];
  /** Client RTP and RTCP ports (UDP). */
  clientPorts?: [number, number];
  nextSeq: number;
  /** The SSRC this client sees, whatever encoder run the packets come from. */
  ssrc: number;
  /** RTP clock rate (rtpmap), to turn a wall-clock gap into timestamp units. */
  clockRate: number;
  /** Encoder run the timestamp offset belongs to; undefined before the first packet. */
  generation?: number;
  tsOffset: number;
  lastOutTs?: number;
  lastOutAt: number;
  /** After a drop the video track waits for a keyframe so the client never decodes a broken GOP. */
  waitKeyframe: boolean;
}

export interface UdpServerPair {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
}

/** A TCP client that reads slower than the stream: beyond this many queued bytes packets are dropped. */
const MAX_TCP_BACKLOG_BYTES = 2 * 1024 * 1024;

export class CameraSession {
  readonly id = randomBytes(8).toString('hex').toUpperCase();
  readonly tracks = new Map<number, SessionTrack>();
  lastActivity = Date.now();
  private unsubscribe?: () => void;
  droppedPackets = 0;

  constructor(
    readonly feed: StreamFeed,
    readonly connection: net.Socket,
    private readonly udp: UdpServerPair,
    private readonly clientAddress: string,
  ) {}

  get path(): string {
    return this.feed.spec.path;
  }

  get playing(): boolean {
    return this.unsubscribe !== undefined;
  }

  get transport(): SessionTransportKind {
    for (const t of this.tracks.values()) return t.kind;
    return 'tcp';
  }

  addTrack(index: number, kind: SessionTransportKind, pair: [number, number], clockRate: number): SessionTrack {
    const track: SessionTrack = {
      index,
      kind,
      channels: kind === 'tcp' ? pair : undefined,
      clientPorts: kind === 'udp' ? pair : undefined,
      nextSeq: randomInt(0, 0x8000),
      ssrc: randomBytes(4).readUInt32BE(0),
      clockRate,
      tsOffset: 0,
      lastOutAt: 0,
      waitKeyframe: index === 0,
    };
    this.tracks.set(index, track);
    return track;
  }

  /** Starts delivery: cached SRs and GOP first (see StreamFeed), then live packets. */
  play(): void {
    if (this.unsubscribe) return;
    for (const t of this.tracks.values()) t.waitKeyframe = t.index === 0;
    this.unsubscribe = this.feed.subscribe((p) => this.deliver(p));
  }

  pause(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  close(): void {
    this.pause();
  }

  private deliver(p: FeedPacket): void {
    const track = this.tracks.get(p.track);
    if (!track) return;
    if (track.generation === undefined) track.generation = p.generation;
    if (p.rtcp) {
      // A new run's SR is only meaningful once its timestamp offset is known (first RTP packet).
      if (p.generation === track.generation) this.send(track, this.rewriteRtcp(track, p.packet), true);
      return;
    }
    const ts = p.packet.readUInt32BE(4);
    if (p.generation !== track.generation) {
      if (track.index === 0 && !p.keyStart) return;
      track.generation = p.generation;
      track.waitKeyframe = false;
      if (track.lastOutTs !== undefined) {
        const gap = Math.round(((Date.now() - track.lastOutAt) * track.clockRate) / 1000);
        track.tsOffset = (track.lastOutTs + Math.max(gap, 1) - ts) >>> 0;
      }
    }
    if (track.waitKeyframe) {
      if (!p.keyStart) return;
      track.waitKeyframe = false;
    }
    if (track.kind === 'tcp' && this.connection.writableLength > MAX_TCP_BACKLOG_BYTES) {
      this.droppedPackets++;
      if (track.index === 0) track.waitKeyframe = true;
      return;
    }
    const seq = track.nextSeq;
    track.nextSeq = (seq + 1) & 0xffff;
    const outTs = (ts + track.tsOffset) >>> 0;
    track.lastOutTs = outTs;
    track.lastOutAt = Date.now();
    const out = Buffer.from(p.packet);
    out.writeUInt16BE(seq, 2);
    out.writeUInt32BE(outTs, 4);
    out.writeUInt32BE(track.ssrc, 8);
    this.send(track, out, false);
  }

  /** SR (RFC 3550 §6.4.1) and SDES (§6.5) in a compound packet: SSRC to the client's, SR timestamp shifted like the RTP. */
  private rewriteRtcp(track: SessionTrack, packet: Buffer): Buffer {
    const out = Buffer.from(packet);
    let off = 0;
    while (off + 8 <= out.length) {
      const pt = out[off + 1];
      const len = (out.readUInt16BE(off + 2) + 1) * 4;
      if (off + len > out.length) break;
      if (pt === 200 || pt === 202) out.writeUInt32BE(track.ssrc, off + 4);
      if (pt === 200 && len >= 20) out.writeUInt32BE((out.readUInt32BE(off + 16) + track.tsOffset) >>> 0, off + 16);
      off += len;
    }
    return out;
  }

  private send(track: SessionTrack, packet: Buffer, rtcp: boolean): void {
    if (track.kind === 'tcp' && track.channels) {
      if (this.connection.destroyed || !this.connection.writable) return;
      const head = Buffer.alloc(4);
      head[0] = 0x24;
      head[1] = rtcp ? track.channels[1] : track.channels[0];
      head.writeUInt16BE(packet.length, 2);
      this.connection.write(Buffer.concat([head, packet]));
    } else if (track.clientPorts) {
      const socket = rtcp ? this.udp.rtcp : this.udp.rtp;
      const port = rtcp ? track.clientPorts[1] : track.clientPorts[0];
      socket.send(packet, port, this.clientAddress, () => undefined);
    }
  }
}
