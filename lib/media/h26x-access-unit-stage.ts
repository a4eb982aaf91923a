/**
 * Turns one PES payload of H.264 (ISO 14496-10 Annex B) or H.265 (ISO 23008-2 Annex B) into the
 * access unit ZLMediaKit's PS demuxer expects (notes §2-§3):
 *  - an access unit delimiter first (H.264 §7.3.2.4 nal type 9; H.265 §7.3.2.5 nal type 35),
 *  - SPS/PPS (and VPS for H.265) in front of every keyframe that lacks them, taken from the last
 *    ones seen in-band (ffmpeg repeats the RTSP sprop-* parameter sets before the first keyframe),
 *  - 4-byte start codes throughout.
 * A frame with no parameter set seen yet is still passed on; the keyframe flag says IDR/IRAP.
 */
import { AccessUnit, VideoCodec } from './access-unit';

const START_CODE = Buffer.from([0, 0, 0, 1]);
const START_3 = Buffer.from([0, 0, 1]);
/** primary_pic_type 7 (any slice type) + rbsp stop bit. */
const H264_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
/** nal_unit_type 35, temporal id 1; pic_type 2 (I, P, B) + stop bit. */
const H265_AUD = Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]);

/** Splits Annex B into NAL units (without start codes, trailing zero bytes removed). */
export function splitAnnexB(data: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let i = data.indexOf(START_3, 0);
  if (i < 0) return data.length ? [data] : nals;
  let start = i + 3;
  for (;;) {
    i = data.indexOf(START_3, start);
    const end = i < 0 ? data.length : i;
    let e = end;
    while (e > start && data[e - 1] === 0) e--;
    if (e > start) nals.push(data.subarray(start, e));
    if (i < 0) break;
    start = i + 3;
  }
  return nals;
}
type ParamKind = 'vps' | 'sps' | 'pps';

interface NalInfo {
  param?: ParamKind;
  aud: boolean;
  keyframe: boolean;
}

function h264Nal(header: number): NalInfo {
  const t = header & 0x1f;
  return { param: t === 7 ? 'sps' : t === 8 ? 'pps' : undefined, aud: t === 9, keyframe: t === 5 };
}

function h265Nal(header: number): NalInfo {
  const t = (header >> 1) & 0x3f;
  return {
    param: t === 32 ? 'vps' : t === 33 ? 'sps' : t === 34 ? 'pps' : undefined,
    aud: t === 35,
    keyframe: t >= 16 && t <= 21, // BLA/IDR/CRA: IRAP (H.265 §7.4.2.2)
  };
}

export class H26xAccessUnitStage {
  private readonly params = new Map<ParamKind, Buffer>();
  private readonly required: ParamKind[];
  private readonly classify: (header: number) => NalInfo;
  private readonly aud: Buffer;

  constructor(readonly codec: VideoCodec) {
    this.required = codec === 'h265' ? ['vps', 'sps', 'pps'] : ['sps', 'pps'];
    this.classify = codec === 'h265' ? h265Nal : h264Nal;
    this.aud = codec === 'h265' ? H265_AUD : H264_AUD;
  }

  /** True once every parameter set this codec needs has been seen. */
  get hasParameterSets(): boolean {
    return this.required.every((k) => this.params.has(k));
  }

  /** Returns the access unit, or undefined when the payload holds no NAL unit but delimiters. */
  process(payload: Buffer, pts: number, dts: number): AccessUnit | undefined {
    const nals = splitAnnexB(payload);
    let keyframe = false;
    const present = new Set<ParamKind>();
    const body: Buffer[] = [];
    for (const nal of nals) {
      const info = this.classify(nal[0]);
      if (info.aud) continue; // we write our own
      if (info.param) {
        present.add(info.param);
        this.params.set(info.param, Buffer.from(nal));
      }
      if (info.keyframe) keyframe = true;
      body.push(nal);
    }
    if (!body.length) return undefined;
    const parts: Buffer[] = [this.aud];
    if (keyframe) {
      for (const kind of this.required) {
        const p = this.params.get(kind);
        if (!present.has(kind) && p) parts.push(START_CODE, p);
      }
    }
    for (const nal of body) parts.push(START_CODE, nal);
    return { codec: this.codec, pts, dts, keyframe, data: Buffer.concat(parts) };
  }
}
