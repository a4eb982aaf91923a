/**
 * MPEG-2 Program Stream muxer for GB28181-2016 Annex C (ISO 13818-1 §2.5). One access unit in, one
 * PS pack out: pack header on every frame (SCR from DTS), system header + program stream map on
 * keyframes, then PES packets of at most 0xFF80 payload bytes with PTS/DTS on the first one.
 * Headers are written into one small buffer per pack and the payload is referenced, never copied:
 * the result is a list of Buffers for the RTP packetizer to gather.
 */
import { AccessUnit, AudioCodec, MediaCodec, VideoCodec, isVideoCodec } from './access-unit';
import { crc32Mpeg2 } from './mpeg-crc32';

/** PSM stream_type values (ISO 13818-1 Table 2-34; GB28181-2016 Annex C; media-server mpeg-proto.h). */
export const PS_STREAM_TYPE: Record<MediaCodec, number> = { h264: 0x1b, h265: 0x24, aac: 0x0f, pcma: 0x90, pcmu: 0x91 };
export const PS_VIDEO_STREAM_ID = 0xe0;
export const PS_AUDIO_STREAM_ID = 0xc0;
/** Largest PES payload per PES packet, as ZLMediaKit's encoder (notes §3). */
export const PS_MAX_PES_PAYLOAD = 0xff80;
/** program_mux_rate in 50 byte/s units, as ZLMediaKit writes it (notes §3). */
const MUX_RATE = 6106;
const TS_MOD = 0x200000000; // 2^33
const TWO30 = 0x40000000;

export interface PsPack {
  /** Header slices and payload slices in order; their concatenation is the pack. */
  chunks: Buffer[];
  length: number;
  /** DTS of the frame (90 kHz, 33-bit), the RTP timestamp source. */
  dts: number;
  keyframe: boolean;
  video: boolean;
}

export interface PsMuxerOptions {
  /** Audio declared in the PSM; undefined = video only (a declared silent track delays ZLM ~10 s). */
  audio?: AudioCodec;
  /** Also repeat system header + PSM after this many packs without a keyframe (ZLM: 30). */
  psmInterval?: number;
}

function writeTimestamp(b: Buffer, o: number, prefix: number, ts: number): void {
  const hi = Math.floor(ts / TWO30) & 0x07;
  const lo = ts % TWO30;
  b[o] = (prefix << 4) | (hi << 1) | 1;
  b[o + 1] = (lo >>> 22) & 0xff;
  b[o + 2] = (((lo >>> 15) & 0x7f) << 1) | 1;
  b[o + 3] = (lo >>> 7) & 0xff;
  b[o + 4] = ((lo & 0x7f) << 1) | 1;
}

/** 14-byte MPEG-2 pack header (ISO 13818-1 §2.5.3.3), no stuffing. */
export function writePackHeader(b: Buffer, o: number, scr: number): number {
  const hi = Math.floor(scr / TWO30) & 0x07; // SCR[32..30]
  const lo = scr % TWO30; // SCR[29..0]
  b[o] = 0; b[o + 1] = 0; b[o + 2] = 1; b[o + 3] = 0xba;
  b[o + 4] = 0x40 | (hi << 3) | 0x04 | ((lo >>> 28) & 0x03);
  b[o + 5] = (lo >>> 20) & 0xff;
  b[o + 6] = (((lo >>> 15) & 0x1f) << 3) | 0x04 | ((lo >>> 13) & 0x03);
  b[o + 7] = (lo >>> 5) & 0xff;
  b[o + 8] = ((lo & 0x1f) << 3) | 0x04; // SCR_ext = 0
  b[o + 9] = 0x01;
  b[o + 10] = (MUX_RATE >>> 14) & 0xff;
  b[o + 11] = (MUX_RATE >>> 6) & 0xff;
  b[o + 12] = ((MUX_RATE & 0x3f) << 2) | 0x03;
  b[o + 13] = 0xf8; // reserved + pack_stuffing_length 0
  return o + 14;
}

export class PsMuxer {
  private audio: AudioCodec | undefined;
  private readonly psmInterval: number;
  private videoCodec: VideoCodec | undefined;
  private psmVersion = 0;
  private declared = '';
  private packsSincePsm = Infinity;

  constructor(options: PsMuxerOptions = {}) {
    this.audio = options.audio;
    this.psmInterval = options.psmInterval ?? 30;
  }

  /** The audio codec the PSM declares (undefined = none). */
  get declaredAudio(): AudioCodec | undefined {
    return this.audio;
  }

  /** Declare (or stop declaring) audio from the next PSM on; forces a PSM on the next pack. */
  setAudio(codec: AudioCodec | undefined): void {
    if (codec === this.audio) return;
    this.audio = codec;
    this.packsSincePsm = Infinity;
  }

  /** Muxes one access unit. Audio units of a codec the PSM does not declare return undefined. */
  mux(au: AccessUnit): PsPack | undefined {
    const video = isVideoCodec(au.codec);
    if (video) this.videoCodec = au.codec as VideoCodec;
    else if (au.codec !== this.audio) return undefined;
    const withPsm = (video && au.keyframe) || this.packsSincePsm >= this.psmInterval;
    const streams = this.streams();
    const pesCount = Math.max(1, Math.ceil(au.data.length / PS_MAX_PES_PAYLOAD));
    const timed = au.pts !== au.dts;
    const sysLen = 12 + 3 * streams.length;
    const psmLen = 16 + 4 * streams.length;
    const headerBytes = 14 + (withPsm ? sysLen + psmLen : 0) + pesCount * 9 + (timed ? 10 : 5);
    const h = Buffer.allocUnsafe(headerBytes);
    const chunks: Buffer[] = [];
    let o = writePackHeader(h, 0, (au.dts - 3600 + TS_MOD) % TS_MOD);
    if (withPsm) {
      o = this.writeSystemHeader(h, o, streams);
      o = this.writePsm(h, o, streams);
      this.packsSincePsm = 0;
    } else {
      this.packsSincePsm++;
    }
    const sid = video ? PS_VIDEO_STREAM_ID : PS_AUDIO_STREAM_ID;
    let headerStart = 0;
    let pos = 0;
    for (let i = 0; i < pesCount; i++) {
      const n = Math.min(PS_MAX_PES_PAYLOAD, au.data.length - pos);
      const tsBytes = i === 0 ? (timed ? 10 : 5) : 0;
      h[o] = 0; h[o + 1] = 0; h[o + 2] = 1; h[o + 3] = sid;
      h.writeUInt16BE(3 + tsBytes + n, o + 4);
      h[o + 6] = 0x80 | (i === 0 && video && au.keyframe ? 0x04 : 0); // data_alignment on the keyframe's start
      h[o + 7] = tsBytes === 10 ? 0xc0 : tsBytes === 5 ? 0x80 : 0x00;
      h[o + 8] = tsBytes;
      o += 9;
      if (tsBytes === 10) {
        writeTimestamp(h, o, 0x3, au.pts);
        writeTimestamp(h, o + 5, 0x1, au.dts);
      } else if (tsBytes === 5) {
        writeTimestamp(h, o, 0x2, au.pts);
      }
      o += tsBytes;
      chunks.push(h.subarray(headerStart, o));
      headerStart = o;
      if (n > 0) chunks.push(au.data.subarray(pos, pos + n));
      pos += n;
    }
    return { chunks, length: headerBytes + au.data.length, dts: au.dts, keyframe: video && au.keyframe, video };
  }

  private streams(): Array<{ type: number; id: number }> {
    const s: Array<{ type: number; id: number }> = [];
    if (this.videoCodec) s.push({ type: PS_STREAM_TYPE[this.videoCodec], id: PS_VIDEO_STREAM_ID });
    if (this.audio) s.push({ type: PS_STREAM_TYPE[this.audio], id: PS_AUDIO_STREAM_ID });
    const key = s.map((x) => `${x.type}:${x.id}`).join(',');
    if (key !== this.declared) {
      if (this.declared) this.psmVersion = (this.psmVersion + 1) & 0x1f;
      this.declared = key;
    }
    return s;
  }

  /** System header (ISO 13818-1 §2.5.3.5). */
  private writeSystemHeader(b: Buffer, o: number, streams: Array<{ type: number; id: number }>): number {
    const rateBound = MUX_RATE;
    b[o] = 0; b[o + 1] = 0; b[o + 2] = 1; b[o + 3] = 0xbb;
    b.writeUInt16BE(6 + 3 * streams.length, o + 4);
    b[o + 6] = 0x80 | ((rateBound >>> 15) & 0x7f);
    b[o + 7] = (rateBound >>> 7) & 0xff;
    b[o + 8] = ((rateBound & 0x7f) << 1) | 0x01;
    const audioBound = streams.filter((s) => s.id === PS_AUDIO_STREAM_ID).length;
    const videoBound = streams.filter((s) => s.id === PS_VIDEO_STREAM_ID).length;
    b[o + 9] = (audioBound << 2) | 0x00; // fixed_flag 0, CSPS_flag 0
    b[o + 10] = 0xe0 | videoBound; // audio lock, video lock, marker
    b[o + 11] = 0x7f; // packet_rate_restriction_flag 0 + reserved
    o += 12;
    for (const s of streams) {
      const video = s.id === PS_VIDEO_STREAM_ID;
      // P-STD buffer: video scale 1 (1024 B units) × 400, audio scale 0 (128 B units) × 32.
      const size = video ? 400 : 32;
      b[o] = s.id;
      b[o + 1] = 0xc0 | (video ? 0x20 : 0) | ((size >>> 8) & 0x1f);
      b[o + 2] = size & 0xff;
      o += 3;
    }
    return o;
  }

  /** Program stream map (ISO 13818-1 §2.5.4) with no descriptors and its CRC_32. */
  private writePsm(b: Buffer, o: number, streams: Array<{ type: number; id: number }>): number {
    const start = o;
    b[o] = 0; b[o + 1] = 0; b[o + 2] = 1; b[o + 3] = 0xbc;
    b.writeUInt16BE(10 + 4 * streams.length, o + 4);
    b[o + 6] = 0x80 | 0x60 | this.psmVersion; // current_next_indicator, reserved, version
    b[o + 7] = 0xff; // reserved + marker
    b.writeUInt16BE(0, o + 8); // program_stream_info_length
    b.writeUInt16BE(4 * streams.length, o + 10); // elementary_stream_map_length
    o += 12;
    for (const s of streams) {
      b[o] = s.type;
      b[o + 1] = s.id;
      b.writeUInt16BE(0, o + 2); // elementary_stream_info_length: no descriptors
      o += 4;
    }
    b.writeUInt32BE(crc32Mpeg2(b, start, o), o);
    return o + 4;
  }
}
