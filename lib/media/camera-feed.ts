/**
 * One camera source shared by every session of its channel: runs the RtspIngest, demuxes its
 * MPEG-TS into access units, keeps a GOP cache for instant start, restarts ffmpeg on exit, error
 * or stall with exponential backoff and jitter (1 s..30 s), and keeps timestamps continuous across
 * restarts so sessions (and their RTP sequence/timestamps) just carry on.
 */
import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../logger';
import { AccessUnit, AudioCodec, VideoCodec, isVideoCodec } from './access-unit';
import { AudioAccessUnitStage } from './audio-access-unit-stage';
import { FfBinary } from './ffmpeg-path';
import { H26xAccessUnitStage } from './h26x-access-unit-stage';
import { IngestError } from './ingest-error';
import { MediaSourceSpec, SourceState, SourceStats } from './media-source';
import { IngestStreamInfo, RtspIngest } from './rtsp-ingest';
import { ElementaryPacket, TsDemuxer, TsProgramStream } from './ts-demuxer';

/** A receiver of the feed's access units (a media session). */
export interface FeedSubscriber {
  onUnit(au: AccessUnit): void;
  /** The source restarted: the next video unit a subscriber may send is a keyframe. */
  onDiscontinuity(): void;
}

export interface CameraFeedOptions {
  spec: MediaSourceSpec;
  ffmpeg: FfBinary;
  logger?: Logger;
  gopCache?: boolean;
  /** Restart ffmpeg when no data came for this long (default 5000 ms). */
  stallTimeoutMs?: number;
  /** Longest start-up (connect + probe) before the first data (default 10000 ms). */
  connectTimeoutMs?: number;
  /** First and largest restart delay (defaults 1000 / 30000 ms). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  statsIntervalMs?: number;
  /** Largest GOP cache in bytes; beyond it the cache is dropped until the next keyframe (default 16 MiB). */
  gopCacheMaxBytes?: number;
}

export interface CameraFeedEvents {
  state: [state: SourceState, reason: string | undefined, error: IngestError | undefined];
  stats: [stats: SourceStats];
}

const TS_MOD = 0x200000000;
const VIDEO_TYPES: Record<number, VideoCodec> = { 0x1b: 'h264', 0x24: 'h265' };

function codecFromFfmpegName(name: string): VideoCodec | AudioCodec | undefined {
  switch (name) {
    case 'h264': return 'h264';
    case 'hevc': case 'h265': return 'h265';
    case 'aac': return 'aac';
    case 'pcm_alaw': return 'pcma';
    case 'pcm_mulaw': return 'pcmu';
    default: return undefined;
  }
}

/** Exponential backoff with ±20 % jitter (so cameras behind one switch do not retry in step), within [min, max]. */
export function restartDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** attempt);
  return Math.max(minMs, Math.min(maxMs, base * (0.8 + random() * 0.4)));
}

export class CameraFeed extends EventEmitter<CameraFeedEvents> {
  readonly key: string;
  private readonly logger: Logger;
  private readonly subscribers = new Set<FeedSubscriber>();
  private ingest: RtspIngest | undefined;
  private demuxer: TsDemuxer;
  private ingestStreams: IngestStreamInfo[] = [];
  private videoStage: H26xAccessUnitStage | undefined;
  private audioStage: AudioAccessUnitStage | undefined;
  private program: TsProgramStream[] = [];
  private held: ElementaryPacket[] = [];
  private gop: AccessUnit[] = [];
  private gopBytes = 0;
  private _state: SourceState = 'offline';
  private lastError: IngestError | undefined;
  private running = false;
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private lastDataAt = 0;
  private lastUnitAt = 0;
  // Timestamp continuity across ffmpeg restarts: out = (raw + offset) mod 2^33.
  private offset = 0;
  private needRebase = true;
  private lastOutDts = -1;
  private frames = 0;
  private periodFrames = 0;
  private periodBytes = 0;
  private periodStart = Date.now();
  private reconnects = 0;
  videoCodec: VideoCodec | undefined;
  /** Set once audio units of a supported codec have actually arrived. */
  audioCodec: AudioCodec | undefined;
  width: number | undefined;
  height: number | undefined;

  constructor(private readonly options: CameraFeedOptions) {
    super();
    this.key = options.spec.key;
    this.logger = options.logger ?? silentLogger;
    this.demuxer = this.newDemuxer();
  }

  get state(): SourceState {
    return this._state;
  }

  get error(): IngestError | undefined {
    return this.lastError;
  }

  /** The supported audio codec this source carries, known before any audio unit arrived. */
  get expectedAudioCodec(): AudioCodec | undefined {
    for (const s of this.program) {
      const codec = this.codecOf(s);
      if (codec && !isVideoCodec(codec)) return codec;
    }
    const a = this.ingestStreams.find((s) => s.kind === 'audio');
    const codec = a ? codecFromFfmpegName(a.codec) : undefined;
    return codec && !isVideoCodec(codec) ? codec : undefined;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Access units from the last keyframe on (empty when the cache is off or no keyframe yet). */
  gopSnapshot(): AccessUnit[] {
    return this.gop.slice();
  }

  subscribe(s: FeedSubscriber): void {
    this.subscribers.add(s);
  }

  unsubscribe(s: FeedSubscriber): void {
    this.subscribers.delete(s);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    const interval = this.options.statsIntervalMs ?? 5000;
    this.statsTimer = setInterval(() => this.emit('stats', this.stats()), interval);
    this.statsTimer.unref();
    this.watchdog = setInterval(() => this.checkStall(), 500);
    this.watchdog.unref();
    this.spawn();
  }

  stop(): void {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.restartTimer = this.watchdog = this.statsTimer = undefined;
    const ingest = this.ingest;
    this.ingest = undefined;
    ingest?.stop();
    this.gop = [];
    this.gopBytes = 0;
    this.setState('offline', 'stopped', undefined);
  }

  stats(): SourceStats {
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.periodStart) / 1000);
    const s: SourceStats = {
      key: this.key,
      state: this._state,
      fps: Math.round((this.periodFrames / secs) * 10) / 10,
      bitrate: Math.round((this.periodBytes * 8) / secs),
      frames: this.frames,
      lastFrameAgeMs: this.lastUnitAt ? now - this.lastUnitAt : -1,
      reconnects: this.reconnects,
      ...(this.videoCodec ? { videoCodec: this.videoCodec } : {}),
      ...(this.audioCodec ? { audioCodec: this.audioCodec } : {}),
      ...(this.width ? { width: this.width, height: this.height } : {}),
    };
    this.periodStart = now;
    this.periodFrames = 0;
    this.periodBytes = 0;
    return s;
  }

  private newDemuxer(): TsDemuxer {
    return new TsDemuxer((p) => this.onPes(p), (streams) => this.onProgram(streams));
  }

  private spawn(): void {
    if (!this.running) return;
    const spec = this.options.spec;
    this.setState('connecting', undefined, undefined);
    this.demuxer = this.newDemuxer();
    this.program = [];
    this.held = [];
    this.ingestStreams = [];
    this.videoStage = undefined;
    this.audioStage = undefined;
    this.needRebase = true;
    this.lastDataAt = Date.now();
    const ingest = new RtspIngest({
      url: spec.url,
      displayUrl: spec.displayUrl,
      ffmpeg: this.options.ffmpeg,
      rtspTransport: spec.rtspTransport,
      transcode: spec.transcode,
      logger: this.logger,
      context: { key: spec.key },
    });
    this.ingest = ingest;
    ingest.on('streams', (s) => {
      if (this.ingest !== ingest) return;
      this.ingestStreams = s;
      this.configureStages();
      this.releaseHeld();
    });
    ingest.on('data', (chunk) => {
      if (this.ingest !== ingest) return;
      this.lastDataAt = Date.now();
      this.demuxer.push(chunk);
    });
    ingest.on('exit', (err) => {
      if (this.ingest !== ingest) return;
      this.ingest = undefined;
      this.onIngestGone(err ?? new IngestError('RTSP_ENDED', 'ffmpeg exited', { key: this.key, camera: spec.displayUrl }));
    });
    ingest.start();
  }

  private onIngestGone(error: IngestError): void {
    if (!this.running) return;
    this.lastError = error;
    this.setState('offline', error.message, error);
    for (const s of this.subscribers) s.onDiscontinuity();
    this.gop = [];
    this.gopBytes = 0;
    const delay = restartDelayMs(this.attempt, this.options.backoffMinMs ?? 1000, this.options.backoffMaxMs ?? 30000);
    this.attempt++;
    this.reconnects++;
    this.logger.warn(`camera offline, retrying in ${Math.round(delay)} ms: ${error.message}`, { key: this.key, camera: this.options.spec.displayUrl, code: error.code });
    this.restartTimer = setTimeout(() => { this.restartTimer = undefined; this.spawn(); }, delay);
  }

  private checkStall(): void {
    if (!this.ingest) return;
    // While connecting, ffmpeg probes before writing anything: allow its start-up time too.
    const stall = this.options.stallTimeoutMs ?? 5000;
    const timeout = this._state === 'online' ? stall : Math.max(stall, this.options.connectTimeoutMs ?? 10000);
    if (Date.now() - this.lastDataAt <= timeout) return;
    const ingest = this.ingest;
    this.ingest = undefined;
    ingest.stop();
    this.onIngestGone(new IngestError('RTSP_STALLED', `no data from the camera for ${timeout} ms`, { key: this.key, camera: this.options.spec.displayUrl }));
  }

  private setState(state: SourceState, reason: string | undefined, error: IngestError | undefined): void {
    if (state === this._state && state !== 'offline') return;
    if (state === this._state && state === 'offline' && reason === 'stopped') return;
    this._state = state;
    this.emit('state', state, reason, error);
  }

  private onProgram(streams: TsProgramStream[]): void {
    this.program = streams;
    this.configureStages();
  }

  /** Codec per TS stream: PMT stream_type, or ffmpeg's own stream list for private data (G.711). */
  private codecOf(stream: TsProgramStream): VideoCodec | AudioCodec | undefined {
    const fromType = VIDEO_TYPES[stream.streamType] ?? (stream.streamType === 0x0f ? 'aac' : undefined);
    if (fromType) return fromType;
    const info = this.ingestStreams.find((s) => s.index === stream.streamIndex);
    return info ? codecFromFfmpegName(info.codec) : undefined;
  }

  private configureStages(): void {
    for (const s of this.program) {
      const codec = this.codecOf(s);
      if (!codec) continue;
      if (isVideoCodec(codec) && (!this.videoStage || this.videoStage.codec !== codec)) this.videoStage = new H26xAccessUnitStage(codec);
      if (!isVideoCodec(codec) && (!this.audioStage || this.audioStage.codec !== codec)) this.audioStage = new AudioAccessUnitStage(codec);
    }
    const v = this.ingestStreams.find((s) => s.kind === 'video');
    if (v?.width) { this.width = v.width; this.height = v.height; }
  }

  /**
   * ffmpeg writes G.711 as private data (stream_type 0x06): its codec comes from ffmpeg's stream
   * list on stderr, which may be read after the first TS bytes. Hold PES until every stream's codec
   * is known, so the first PSM a session sends already declares the audio.
   */
  private programResolved(): boolean {
    return this.program.every((s) => this.codecOf(s) !== undefined) || this.ingestStreams.length >= this.program.length;
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const p of held) this.onPes(p);
  }

  private onPes(p: ElementaryPacket): void {
    if (!this.programResolved() && this.held.length < 250) {
      this.held.push(p);
      return;
    }
    if (this.held.length) this.releaseHeld();
    const codec = this.codecOf(p);
    if (!codec) return;
    if (isVideoCodec(codec)) {
      if (!this.videoStage || this.videoStage.codec !== codec) this.videoStage = new H26xAccessUnitStage(codec);
      const au = this.videoStage.process(p.data, p.pts, p.dts);
      if (au) this.deliver(au);
    } else {
      if (!this.audioStage || this.audioStage.codec !== codec) this.audioStage = new AudioAccessUnitStage(codec);
      for (const au of this.audioStage.process(p.data, p.pts)) this.deliver(au);
    }
  }

  /** Maps a raw 33-bit timestamp of this ffmpeg run into the feed's continuous timeline. */
  private retime(raw: number): number {
    return (raw + this.offset + TS_MOD) % TS_MOD;
  }

  private deliver(au: AccessUnit): void {
    const video = isVideoCodec(au.codec);
    if (this.needRebase) {
      // Wait for the first video keyframe of a new run (ffmpeg -c copy starts at one), audio may not lead it.
      if (!video || !au.keyframe) { if (video || this.videoCodec) return; }
      this.offset = this.lastOutDts < 0 ? 0 : (this.lastOutDts + 3600 - au.dts + TS_MOD) % TS_MOD;
      this.needRebase = false;
    }
    const out: AccessUnit = { ...au, pts: this.retime(au.pts), dts: this.retime(au.dts) };
    const now = Date.now();
    this.lastUnitAt = now;
    this.periodBytes += au.data.length;
    if (video) {
      this.lastOutDts = out.dts;
      this.videoCodec = au.codec as VideoCodec;
      this.frames++;
      this.periodFrames++;
      if (this._state !== 'online') {
        this.attempt = 0;
        this.lastError = undefined;
        this.setState('online', undefined, undefined);
      }
    } else {
      this.audioCodec = au.codec as AudioCodec;
      if (!this.videoCodec) this.lastOutDts = out.dts;
    }
    this.cache(out);
    for (const s of this.subscribers) s.onUnit(out);
  }

  private cache(au: AccessUnit): void {
    if (this.options.gopCache === false) return;
    if (au.keyframe) { this.gop = []; this.gopBytes = 0; }
    else if (!this.gop.length) return;
    this.gop.push(au);
    this.gopBytes += au.data.length;
    if (this.gopBytes > (this.options.gopCacheMaxBytes ?? 16 * 1024 * 1024)) { this.gop = []; this.gopBytes = 0; }
  }
}
