/** The unit every media stage after the demuxer passes on: one coded frame with its 90 kHz timestamps. */
export type MediaCodec = 'h264' | 'h265' | 'aac' | 'pcma' | 'pcmu';

export type VideoCodec = 'h264' | 'h265';
export type AudioCodec = 'aac' | 'pcma' | 'pcmu';

export interface AccessUnit {
  codec: MediaCodec;
  /** Presentation time, 90 kHz, 33-bit wrapped (ISO 13818-1 §2.4.3.7). */
  pts: number;
  /** Decoding time, 90 kHz; equals pts for audio and for video without B-frames. */
  dts: number;
  /** True for an H.264 IDR / H.265 IRAP access unit (always false for audio). */
  keyframe: boolean;
  /**
   * The coded frame: Annex B with AUD (+ parameter sets on keyframes) for video, ADTS frames for
   * AAC, raw samples for G.711.
   */
  data: Buffer;
}

export function isVideoCodec(codec: MediaCodec): codec is VideoCodec {
  return codec === 'h264' || codec === 'h265';
}
