/**
 * One ffmpeg process pulling an RTSP camera (fluent-ffmpeg behind this small interface, so it can
 * be replaced): `-c copy` (or the transcode option) into MPEG-TS on stdout, which keeps PTS/DTS.
 * Start-up is tuned for the first frame to come fast; stderr becomes typed IngestErrors.
 * The URL with credentials goes to ffmpeg's argv only; everything logged is masked.
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type ffmpeg from 'fluent-ffmpeg';
import { Logger, silentLogger } from '../logger';
import { maskRtspUrl, maskUrlsInText } from '../rtsp-url';
import { FfBinary, rtspTimeoutOption } from './ffmpeg-path';
import { fluentCommand } from './fluent-command';
import { IngestError, classifyFfmpegFailure } from './ingest-error';

export type RtspTransportChoice = 'tcp' | 'udp' | 'auto';

export interface TranscodeOptions {
  /** Re-encode video to H.264 (libx264 ultrafast, zerolatency). */
  video?: boolean;
  /** Re-encode audio to G.711 A-law 8 kHz mono. */
  audio?: boolean;
}

export interface RtspIngestOptions {
  url: string;
  /** Shown in logs and errors instead of url. Default: the url masked. */
  displayUrl?: string;
  ffmpeg: FfBinary;
  rtspTransport?: RtspTransportChoice;
  transcode?: TranscodeOptions;
  /** RTSP socket timeout (default 5000 ms). */
  socketTimeoutMs?: number;
  logger?: Logger;
  /** Context copied into errors (camera key, channel). */
  context?: Record<string, unknown>;
}

/** Codec of one output stream as ffmpeg printed it ("h264", "hevc", "aac", "pcm_alaw", ...). */
export interface IngestStreamInfo {
  index: number;
  kind: 'video' | 'audio';
  codec: string;
  width?: number;
  height?: number;
}

export interface RtspIngestEvents {
  data: [chunk: Buffer];
  /** Output streams in order (= MPEG-TS PMT order). */
  streams: [streams: IngestStreamInfo[]];
  /** The process is gone; error is set unless stop() asked for it. */
  exit: [error: IngestError | undefined];
}

/** Arguments before `-i`. */
export function ingestInputOptions(bin: FfBinary, transport: RtspTransportChoice, socketTimeoutMs: number): string[] {
  const opts = ['-hide_banner', '-nostats', '-loglevel', 'info'];
  if (transport !== 'auto') opts.push('-rtsp_transport', transport);
  opts.push(rtspTimeoutOption(bin), String(socketTimeoutMs * 1000));
  // Enough to find SPS/PPS and the audio config, small enough for a fast first frame.
  opts.push('-probesize', '262144', '-analyzeduration', '1000000', '-fflags', 'nobuffer');
  return opts;
}

/** Arguments after `-i`. */
export function ingestOutputOptions(transcode: TranscodeOptions = {}): string[] {
  const opts = ['-map', '0:v:0?', '-map', '0:a:0?', '-sn', '-dn'];
  if (transcode.video) opts.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '50');
  else opts.push('-c:v', 'copy');
  if (transcode.audio) opts.push('-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1');
  else opts.push('-c:a', 'copy');
  // One PES per audio packet and no mux delay: latency, not packing efficiency.
  // Video PES lengths written (≤ 64 KiB) so the demuxer knows a frame is complete without waiting
  // for the next one.
  opts.push('-muxdelay', '0', '-muxpreload', '0', '-flush_packets', '1', '-pes_payload_size', '0', '-omit_video_pes_length', '0');
  return opts;
}

const STREAM_LINE = /^\s*Stream #\d+:(\d+)(?:\[\w+\])?(?:\(\w+\))?: (Video|Audio): (\w+)(.*)$/;

export class RtspIngest extends EventEmitter<RtspIngestEvents> {
  readonly displayUrl: string;
  private command: ffmpeg.FfmpegCommand | undefined;
  private readonly stderrTail: string[] = [];
  private section: 'none' | 'input' | 'output' = 'none';
  private readonly outputs: IngestStreamInfo[] = [];
  private stopping = false;
  private gotData = false;
  private startedAt = 0;
  private exited = false;
  private readonly logger: Logger;

  constructor(private readonly options: RtspIngestOptions) {
    super();
    this.displayUrl = options.displayUrl ?? maskRtspUrl(options.url);
    this.logger = options.logger ?? silentLogger;
  }

  get running(): boolean {
    return !!this.command && !this.exited;
  }

  /** Output streams ffmpeg announced (empty until its header is printed). */
  get streams(): IngestStreamInfo[] {
    return this.outputs.slice();
  }

  start(): void {
    if (this.command) throw new Error('RtspIngest already started');
    const o = this.options;
    const cmd = fluentCommand(o.url, { ffmpegPath: o.ffmpeg.path })
      .inputOptions(ingestInputOptions(o.ffmpeg, o.rtspTransport ?? 'auto', o.socketTimeoutMs ?? 5000))
      .outputOptions(ingestOutputOptions(o.transcode))
      .format('mpegts');
    this.command = cmd;
    this.startedAt = Date.now();
    cmd.on('start', () => this.logger.debug('ffmpeg started', { camera: this.displayUrl }));
    cmd.on('stderr', (line: string) => this.onStderr(line));
    cmd.on('error', (err: Error) => this.onExit(err));
    cmd.on('end', () => this.onExit(undefined));
    const out = cmd.pipe() as Readable;
    out.on('data', (chunk: Buffer) => { this.gotData = true; this.emit('data', chunk); });
    out.on('error', () => undefined); // reported through the command's 'error'
  }

  /** Stops ffmpeg (SIGKILL: it has nothing to finalise on a pipe); 'exit' follows with no error. */
  stop(): void {
    if (!this.command || this.exited) return;
    this.stopping = true;
    this.command.kill('SIGKILL');
  }

  private onStderr(raw: string): void {
    const line = maskUrlsInText(raw);
    this.stderrTail.push(line);
    if (this.stderrTail.length > 30) this.stderrTail.shift();
    if (/^Input #/.test(line)) this.section = 'input';
    else if (/^Output #/.test(line)) this.section = 'output';
    else if (/^Stream mapping:|^Press \[q\]/.test(line)) {
      // With copy ffmpeg prints Output #0 before the mapping; when encoding, after it.
      if (this.section === 'output') this.emit('streams', this.streams);
      this.section = 'none';
    } else if (this.section === 'output') {
      const m = STREAM_LINE.exec(line);
      if (m) {
        const size = /, (\d{2,5})x(\d{2,5})/.exec(m[4]);
        this.outputs.push({
          index: Number(m[1]),
          kind: m[2] === 'Video' ? 'video' : 'audio',
          codec: m[3],
          ...(size ? { width: Number(size[1]), height: Number(size[2]) } : {}),
        });
        this.emit('streams', this.streams);
      }
    }
    if (/error|failed|refused|unauthori[sz]ed|not found|timed out/i.test(line)) this.logger.debug(`ffmpeg: ${line}`, { camera: this.displayUrl });
  }

  private onExit(err: Error | undefined): void {
    if (this.exited) return;
    this.exited = true;
    if (this.stopping) { this.emit('exit', undefined); return; }
    const context = { camera: this.displayUrl, ...this.options.context };
    let error: IngestError;
    if (err) error = classifyFfmpegFailure([...this.stderrTail, maskUrlsInText(err.message)], context);
    else error = new IngestError('RTSP_ENDED', 'the camera ended the stream', context);
    // A camera that accepts the connection but never answers makes ffmpeg's socket timeout fire,
    // which it reports only as "Invalid data found when processing input".
    const timeoutMs = this.options.socketTimeoutMs ?? 5000;
    if (error.code === 'RTSP_FAILED' && !this.gotData && Date.now() - this.startedAt >= timeoutMs * 0.9) {
      error = new IngestError('RTSP_TIMEOUT', `the camera did not answer within ${timeoutMs} ms: check the network or try the other RTSP transport (${error.message})`, context);
    }
    this.emit('exit', error);
  }
}
