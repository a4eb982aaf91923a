/** What the gateway's configuration says about one camera stream, as MediaService needs it. */
import { RtspTransportChoice, TranscodeOptions } from './rtsp-ingest';

export interface MediaSourceSpec {
  /** One ingest per key (e.g. camera id + stream number); sessions with the same key share it. */
  key: string;
  /** RTSP URL with credentials: handed to ffmpeg only, never logged. */
  url: string;
  /** The URL with the password masked, for logs and errors. */
  displayUrl: string;
  rtspTransport: RtspTransportChoice;
  transcode?: TranscodeOptions;
}

export type SourceState = 'connecting' | 'online' | 'offline';

export interface SourceStats {
  key: string;
  state: SourceState;
  /** Video frames per second over the last stats period. */
  fps: number;
  /** Bits per second of access units over the last stats period. */
  bitrate: number;
  /** Video frames since the feed was created. */
  frames: number;
  /** Milliseconds since the last access unit; -1 before the first. */
  lastFrameAgeMs: number;
  reconnects: number;
  videoCodec?: string;
  audioCodec?: string;
  width?: number;
  height?: number;
}
