/**
 * Test-side checks of a captured PS/RTP stream, written independently of lib/media: RTP header
 * rules, PSM contents (with a bit-by-bit CRC-32/MPEG-2), and decoding by ffprobe/ffmpeg.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ReceivedPacket } from './rtp-test-receiver';

const run = promisify(execFile);

export const DEBIAN_FFMPEG = '/usr/bin/ffmpeg';
export const DEBIAN_FFPROBE = '/usr/bin/ffprobe';
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const NPM_FFMPEG = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;

export interface PsmEntry { streamType: number; streamId: number }

function crcBitwise(b: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of b) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = ((crc >>> 31) & 1) ^ ((byte >> bit) & 1);
      crc = (crc << 1) >>> 0;
      if (top) crc = (crc ^ 0x04c11db7) >>> 0;
    }
  }
  return crc >>> 0;
}

/** Finds the first PSM in a PS buffer and returns its entries; throws when it is malformed. */
export function readPsm(ps: Buffer): PsmEntry[] {
  const at = ps.indexOf(Buffer.from([0, 0, 1, 0xbc]));
  if (at < 0) throw new Error('no PSM (00 00 01 BC) found');
  const len = ps.readUInt16BE(at + 4);
  const psm = ps.subarray(at, at + 6 + len);
  const infoLen = psm.readUInt16BE(8);
  const mapLen = psm.readUInt16BE(10 + infoLen);
  const entries: PsmEntry[] = [];
  let i = 12 + infoLen;
  const end = i + mapLen;
  while (i < end) {
    const esInfo = psm.readUInt16BE(i + 2);
    entries.push({ streamType: psm[i], streamId: psm[i + 1] });
    i += 4 + esInfo;
  }
  if (i !== end) throw new Error(`elementary_stream_map_length ${mapLen} inconsistent with entries`);
  if (end + 4 !== psm.length) throw new Error(`program_stream_map_length ${len} inconsistent`);
  const crc = psm.readUInt32BE(end);
  if (crcBitwise(psm.subarray(0, end)) !== crc) throw new Error('PSM CRC_32 wrong');
  return entries;
}

function startsWithPackHeader(b: Buffer): boolean {
  return b.length >= 4 && b.readUInt32BE(0) === 0x000001ba;
}

/** Walks the PS pack by pack (ISO 13818-1 §2.5.3) and concatenates the payloads of PES `streamId`. */
export function extractPes(ps: Buffer, streamId: number): Buffer {
  const out: Buffer[] = [];
  let o = 0;
  while (o + 6 <= ps.length) {
    if (ps[o] !== 0 || ps[o + 1] !== 0 || ps[o + 2] !== 1) throw new Error(`PS out of sync at byte ${o}`);
    const code = ps[o + 3];
    if (code === 0xba) { o += 14 + (ps[o + 13] & 0x07); continue; }
    const len = ps.readUInt16BE(o + 4);
    if (code === streamId) {
      const hdr = ps[o + 8];
      out.push(ps.subarray(o + 9 + hdr, o + 6 + len));
    }
    o += 6 + len;
  }
  return Buffer.concat(out);
}

export interface RtpRuleReport {
  packs: number;
  videoTimestamps: number;
  /** Frames a 25 fps camera sent across the captured timestamp span. */
  expectedFrames: number;
  durationSec: number;
}

/** Checks RTP and pack structure; returns counts. Throws with a reason on any violation. */
export function checkRtpRules(packets: ReceivedPacket[], ssrc: number, maxSize: number, fps: number): RtpRuleReport {
  if (!packets.length) throw new Error('no RTP packets received');
  let packs = 0;
  const timestamps = new Set<number>();
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i];
    if (p.version !== 2) throw new Error(`packet ${i}: RTP version ${p.version}`);
    if (p.payloadType !== 96) throw new Error(`packet ${i}: PT ${p.payloadType}`);
    if (p.ssrc !== ssrc) throw new Error(`packet ${i}: SSRC ${p.ssrc} != ${ssrc}`);
    if (p.size > maxSize) throw new Error(`packet ${i}: ${p.size} bytes > ${maxSize}`);
    const startsPack = startsWithPackHeader(p.payload);
    if (i === 0 && !startsPack) throw new Error('first packet does not start a PS pack');
    if (startsPack) packs++;
    timestamps.add(p.timestamp);
    const next = packets[i + 1];
    if (next) {
      if (((p.sequence + 1) & 0xffff) !== next.sequence) throw new Error(`sequence gap after packet ${i}: ${p.sequence} → ${next.sequence}`);
      const nextStarts = startsWithPackHeader(next.payload);
      if (nextStarts !== p.marker) throw new Error(`packet ${i}: marker ${p.marker} but next packet ${nextStarts ? 'starts' : 'continues'} a pack`);
      if (!p.marker && next.timestamp !== p.timestamp) throw new Error(`packet ${i}: timestamp changes inside a pack`);
      const delta = (next.timestamp - p.timestamp) >>> 0;
      if (delta > 0x80000000) throw new Error(`packet ${i}: timestamp goes back`);
    } else if (!p.marker) {
      // the capture may end mid-pack; that is fine
    }
  }
  const ts = packets.map((p) => p.timestamp);
  const span = ((ts[ts.length - 1] - ts[0]) >>> 0) / 90000;
  return { packs, videoTimestamps: timestamps.size, expectedFrames: Math.round(span * fps) + 1, durationSec: span };
}

export interface DecodeReport {
  videoCodec?: string;
  width?: number;
  height?: number;
  videoFrames: number;
  audioCodec?: string;
  /** Audio decoded seconds (AAC via ffmpeg, G.711 via raw extraction). */
  audioSeconds?: number;
}

export class PsDecodeCheck {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-media-'));

  write(name: string, data: Buffer): string {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, data);
    return file;
  }

  /** ffprobe -f mpeg: stream list and decoded video frame count. */
  async probe(file: string): Promise<DecodeReport> {
    const { stdout } = await run(DEBIAN_FFPROBE, ['-v', 'error', '-f', 'mpeg', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames', '-of', 'json', file], { timeout: 60000 });
    const streams = (JSON.parse(stdout) as { streams: Array<Record<string, string | number>> }).streams;
    const v = streams.find((s) => s.codec_type === 'video');
    const a = streams.find((s) => s.codec_type === 'audio');
    return {
      ...(v ? { videoCodec: String(v.codec_name), width: Number(v.width), height: Number(v.height) } : {}),
      videoFrames: v ? Number(v.nb_read_frames) : 0,
      ...(a ? { audioCodec: String(a.codec_name) } : {}),
    };
  }

  /**
   * Decodes with the given ffmpeg; returns its error output (empty = clean). ffmpeg's PS demuxer
   * does not know the GB28181 G.711 stream types (0x90/0x91) and probes that stream as MP2;
   * `ignoreMp2` drops those probe complaints (the audio is checked separately).
   */
  async decodeErrors(ffmpegBin: string, file: string, map: string, ignoreMp2 = false): Promise<string> {
    const r = await run(ffmpegBin, ['-hide_banner', '-v', 'error', '-f', 'mpeg', '-i', file, '-map', map, '-f', 'null', '-'], { timeout: 60000 }).catch((e: { stderr?: string; message: string }) => ({ stderr: e.stderr ?? e.message }));
    return r.stderr.split('\n').filter((l) => l.trim() && !(ignoreMp2 && /^\[mp2 @/.test(l))).join('\n');
  }

  /** G.711 A-law: ffmpeg does not know PSM type 0x90, so take the C0 PES payloads out and decode them as alaw. */
  async alawSeconds(ps: Buffer): Promise<number> {
    const raw = this.write('audio.alaw', extractPes(ps, 0xc0));
    const { stderr } = await run(DEBIAN_FFMPEG, ['-hide_banner', '-v', 'error', '-f', 'alaw', '-ar', '8000', '-ac', '1', '-i', raw, '-f', 'null', '-'], { timeout: 60000 });
    if (stderr.trim()) throw new Error(`alaw decode errors: ${stderr}`);
    return fs.statSync(raw).size / 8000;
  }

  /** AAC: decoded sample count / rate through ffprobe. */
  async aacSeconds(file: string): Promise<number> {
    const { stdout } = await run(DEBIAN_FFPROBE, ['-v', 'error', '-f', 'mpeg', '-select_streams', 'a', '-show_entries', 'packet=duration_time', '-of', 'csv=p=0', file], { timeout: 60000 });
    return stdout.split('\n').filter(Boolean).reduce((s, l) => s + Number(l), 0);
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
