/**
 * MPEG-2 transport stream writer (ISO 13818-1) for the recorder: access units in, 188-byte packets
 * out. One program: H.264 (stream_type 0x1B) or H.265 (0x24) video on PID 0x100, AAC/ADTS (0x0F)
 * on PID 0x101. PAT/PMT before every keyframe so any segment start is decodable; PCR on every
 * video PES (§2.4.3.5); PES header with PTS/DTS (§2.4.3.7). Any player and ffprobe read the result.
 */
import { AccessUnit, isVideoCodec } from '../media/access-unit';
import { crc32Mpeg2 } from '../media/mpeg-crc32';

const PACKET = 188;
const PAT_PID = 0x0000;
const PMT_PID = 0x1000;
const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;
const TS_MOD = 0x200000000;

export class MpegTsWriter {
  private readonly cc = new Map<number, number>();
  private readonly videoType: number;
  private readonly audio: boolean;

  /** Declares the program's streams (PAT/PMT go out before each keyframe, the first included). */
  constructor(videoCodec: 'h264' | 'h265', withAac: boolean) {
    this.videoType = videoCodec === 'h265' ? 0x24 : 0x1b;
    this.audio = withAac;
  }

  /** The packets for one access unit (AAC only when declared; other audio is not written). */
  write(au: AccessUnit): Buffer[] {
    const video = isVideoCodec(au.codec);
    if (!video && (au.codec !== 'aac' || !this.audio)) return [];
    const out: Buffer[] = [];
    if (video && au.keyframe) out.push(this.pat(), this.pmt());
    const pes = this.pes(video ? 0xe0 : 0xc0, au, video);
    const pid = video ? VIDEO_PID : AUDIO_PID;
    const pcr = video ? (au.dts - 900 + TS_MOD) % TS_MOD : undefined;
    let off = 0;
    let first = true;
    while (off < pes.length) {
      const p = Buffer.alloc(PACKET, 0xff);
      p[0] = 0x47;
      p[1] = (first ? 0x40 : 0) | ((pid >> 8) & 0x1f);
      p[2] = pid & 0xff;
      // Adaptation field: PCR and random_access on the first packet of a video PES, stuffing on the last.
      let af: Buffer | undefined;
      if (first && pcr !== undefined) {
        af = Buffer.alloc(8);
        af[0] = 7;
        af[1] = 0x10 | (au.keyframe ? 0x40 : 0);
        writePcr(af, 2, pcr);
      }
      const headerLen = 4 + (af ? af.length : 0);
      const room = PACKET - headerLen;
      const remaining = pes.length - off;
      if (remaining < room) {
        // Stuff the adaptation field so the payload ends the packet exactly.
        const need = PACKET - 4 - remaining;
        const stuffed = Buffer.alloc(need, 0xff);
        stuffed[0] = need - 1;
        if (need > 1) {
          stuffed[1] = af ? af[1] : 0x00;
          if (af) af.copy(stuffed, 2, 2);
        }
        af = stuffed;
      }
      const cc = this.nextCc(pid);
      p[3] = (af ? 0x30 : 0x10) | cc;
      let o = 4;
      if (af) { af.copy(p, 4); o += af.length; }
      const n = Math.min(PACKET - o, remaining);
      pes.copy(p, o, off, off + n);
      off += n;
      first = false;
      out.push(p);
    }
    return out;
  }

  private nextCc(pid: number): number {
    const c = this.cc.get(pid) ?? 0;
    this.cc.set(pid, (c + 1) & 0x0f);
    return c;
  }

  private pes(streamId: number, au: AccessUnit, video: boolean): Buffer {
    const withDts = video && au.dts !== au.pts;
    const hdrData = withDts ? 10 : 5;
    const h = Buffer.alloc(9 + hdrData);
    h[0] = 0; h[1] = 0; h[2] = 1; h[3] = streamId;
    const len = 3 + hdrData + au.data.length;
    h.writeUInt16BE(video || len > 0xffff ? 0 : len, 4); // 0 = unbounded (video, §2.4.3.7)
    h[6] = 0x84; // marker bits '10', data_alignment_indicator
    h[7] = withDts ? 0xc0 : 0x80;
    h[8] = hdrData;
    writeTimestamp(h, 9, withDts ? 0x3 : 0x2, au.pts);
    if (withDts) writeTimestamp(h, 14, 0x1, au.dts);
    return Buffer.concat([h, au.data]);
  }

  private section(pid: number, body: Buffer): Buffer {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32Mpeg2(body), 0);
    const p = Buffer.alloc(PACKET, 0xff);
    p[0] = 0x47;
    p[1] = 0x40 | ((pid >> 8) & 0x1f);
    p[2] = pid & 0xff;
    p[3] = 0x10 | this.nextCc(pid);
    p[4] = 0; // pointer_field
    body.copy(p, 5);
    crc.copy(p, 5 + body.length);
    return p;
  }

  private pat(): Buffer {
    // table_id 0, section_length 13, TS id 1, version 0 current, program 1 → PMT PID.
    const b = Buffer.from([0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
    return this.section(PAT_PID, b);
  }

  private pmt(): Buffer {
    const streams: number[] = [this.videoType, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00];
    if (this.audio) streams.push(0x0f, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00);
    const sectionLength = 9 + streams.length + 4;
    const b = Buffer.from([0x02, 0xb0 | (sectionLength >> 8), sectionLength & 0xff, 0x00, 0x01, 0xc1, 0x00, 0x00,
      0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00, ...streams]);
    return this.section(PMT_PID, b);
  }
}

/** 33-bit PTS/DTS with marker bits (ISO 13818-1 §2.4.3.7). */
function writeTimestamp(b: Buffer, o: number, prefix: number, ts: number): void {
  const t = ((ts % TS_MOD) + TS_MOD) % TS_MOD;
  const hi = Math.floor(t / 0x40000000); // bits 32..30
  const mid = Math.floor(t / 0x8000) & 0x7fff; // bits 29..15
  const lo = t & 0x7fff; // bits 14..0
  b[o] = (prefix << 4) | (hi << 1) | 1;
  b[o + 1] = mid >> 7;
  b[o + 2] = ((mid & 0x7f) << 1) | 1;
  b[o + 3] = lo >> 7;
  b[o + 4] = ((lo & 0x7f) << 1) | 1;
}

/** program_clock_reference: 33-bit base (90 kHz), 6 reserved bits, 9-bit extension 0 (§2.4.3.5). */
function writePcr(b: Buffer, o: number, base: number): void {
  const hi = Math.floor(base / 2); // top 32 bits of the 33-bit base
  b.writeUInt32BE(hi >>> 0, o);
  b[o + 4] = ((base & 1) << 7) | 0x7e;
  b[o + 5] = 0;
}
