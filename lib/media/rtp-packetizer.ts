/**
 * RTP packetizer for PS over RTP (RFC 3550 §5.1; GB28181-2016 Annex C/§C.2; notes §2-§3):
 * one timestamp per PS pack, marker on the pack's last packet, sequence numbers continuous for the
 * whole session. All packets of a pack are written into one buffer, each preceded by its RFC 4571
 * 2-byte length, so TCP sends the whole pack in one write and UDP sends views without the prefix.
 */
import { PsPack } from './ps-muxer';

export const RTP_HEADER_SIZE = 12;
/** ZLMediaKit's sender uses an MTU of 1400 bytes per RTP packet including its header (notes §3). */
export const DEFAULT_RTP_PAYLOAD = 1400 - RTP_HEADER_SIZE;

export interface RtpPacketizerOptions {
  ssrc: number;
  payloadType?: number;
  /** Largest RTP payload in bytes (default 1388 → 1400-byte packets). */
  maxPayload?: number;
  /** First sequence number (default random, RFC 3550 §5.1). */
  initialSequence?: number;
}

export interface RtpFrame {
  /** Every packet, each behind its 2-byte big-endian length (RFC 4571): what TCP writes. */
  framed: Buffer;
  /** The RTP packets without the length prefix (views into `framed`): what UDP sends. */
  packets: Buffer[];
  timestamp: number;
  firstSequence: number;
  keyframe: boolean;
}

/** Parses a y= value ("0100000001") into the SSRC number; GB28181-2016 §C.2: decimal. */
export function ssrcFromY(y: string): number {
  if (!/^\d{1,10}$/.test(y)) throw new RangeError(`y= value "${y}" is not 1-10 decimal digits`);
  const n = Number(y);
  if (n > 0xffffffff) throw new RangeError(`y= value "${y}" exceeds 32 bits`);
  return n;
}

export class RtpPacketizer {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly maxPayload: number;
  private seq: number;
  packetsSent = 0;
  octetsSent = 0;

  constructor(options: RtpPacketizerOptions) {
    if (!Number.isInteger(options.ssrc) || options.ssrc < 0 || options.ssrc > 0xffffffff) throw new RangeError(`bad SSRC ${options.ssrc}`);
    this.ssrc = options.ssrc;
    this.payloadType = options.payloadType ?? 96;
    this.maxPayload = options.maxPayload ?? DEFAULT_RTP_PAYLOAD;
    if (this.maxPayload < 16 || this.maxPayload > 0xffff - RTP_HEADER_SIZE) throw new RangeError(`bad RTP payload size ${this.maxPayload}`);
    this.seq = (options.initialSequence ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  /** Sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.seq;
  }

  /** `timestamp` is 90 kHz; it is taken modulo 2^32. */
  packetize(pack: PsPack, timestamp: number): RtpFrame {
    const count = Math.max(1, Math.ceil(pack.length / this.maxPayload));
    const framed = Buffer.allocUnsafe(pack.length + count * (RTP_HEADER_SIZE + 2));
    const packets: Buffer[] = new Array<Buffer>(count);
    const ts = timestamp % 0x100000000;
    const firstSequence = this.seq;
    let chunkIndex = 0;
    let chunkOffset = 0;
    let remaining = pack.length;
    let o = 0;
    for (let p = 0; p < count; p++) {
      const n = Math.min(this.maxPayload, remaining);
      remaining -= n;
      framed.writeUInt16BE(RTP_HEADER_SIZE + n, o);
      const start = o + 2;
      framed[start] = 0x80; // V=2, no padding/extension/CSRC
      framed[start + 1] = (p === count - 1 ? 0x80 : 0) | (this.payloadType & 0x7f);
      framed.writeUInt16BE(this.seq, start + 2);
      framed.writeUInt32BE(ts, start + 4);
      framed.writeUInt32BE(this.ssrc, start + 8);
      this.seq = (this.seq + 1) & 0xffff;
      let w = start + RTP_HEADER_SIZE;
      let need = n;
      while (need > 0) {
        const chunk = pack.chunks[chunkIndex];
        const take = Math.min(need, chunk.length - chunkOffset);
        chunk.copy(framed, w, chunkOffset, chunkOffset + take);
        w += take;
        need -= take;
        chunkOffset += take;
        if (chunkOffset === chunk.length) { chunkIndex++; chunkOffset = 0; }
      }
      packets[p] = framed.subarray(start, w);
      o = w;
    }
    this.packetsSent += count;
    this.octetsSent += pack.length;
    return { framed, packets, timestamp: ts, firstSequence, keyframe: pack.keyframe };
  }
}
