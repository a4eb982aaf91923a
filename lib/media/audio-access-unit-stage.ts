/**
 * Audio PES payloads → access units. AAC keeps its ADTS header (ISO 14496-3 §1.A.2; ZLMediaKit's
 * PS demuxer expects ADTS for stream type 0x0F, notes §2) and is split one ADTS frame per unit so
 * each gets its own timestamp; G.711 A-law/µ-law payloads are passed on as they are.
 */
import { AccessUnit, AudioCodec } from './access-unit';

const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export interface AdtsFrameInfo {
  length: number;
  sampleRate: number;
  channels: number;
}

/** Parses an ADTS header at `o`; undefined when none is there. */
export function readAdtsHeader(b: Buffer, o: number): AdtsFrameInfo | undefined {
  if (o + 7 > b.length || b[o] !== 0xff || (b[o + 1] & 0xf6) !== 0xf0) return undefined;
  const sfi = (b[o + 2] >> 2) & 0x0f;
  const channels = ((b[o + 2] & 0x01) << 2) | (b[o + 3] >> 6);
  const length = ((b[o + 3] & 0x03) << 11) | (b[o + 4] << 3) | (b[o + 5] >> 5);
  if (length < 7 || sfi >= AAC_SAMPLE_RATES.length) return undefined;
  return { length, sampleRate: AAC_SAMPLE_RATES[sfi], channels };
}

export class AudioAccessUnitStage {
  constructor(readonly codec: AudioCodec) {}

  process(payload: Buffer, pts: number): AccessUnit[] {
    if (!payload.length) return [];
    if (this.codec !== 'aac') return [{ codec: this.codec, pts, dts: pts, keyframe: false, data: payload }];
    const out: AccessUnit[] = [];
    let o = 0;
    let t = pts;
    while (o < payload.length) {
      const h = readAdtsHeader(payload, o);
      if (!h || o + h.length > payload.length) break; // not ADTS (LATM or garbage): stop, never guess
      out.push({ codec: 'aac', pts: t, dts: t, keyframe: false, data: payload.subarray(o, o + h.length) });
      o += h.length;
      t = (t + Math.round((1024 * 90000) / h.sampleRate)) % 0x200000000;
    }
    return out;
  }
}
