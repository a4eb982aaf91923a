/**
 * A Playback or Download session's media source (GB28181-2016 §9.8/§9.9): access units read from
 * the archive's files over a range, paced by our own clock so PAUSE/PLAY/Scale/seek act at once.
 *
 * - Starts at the keyframe at or before the requested start; crosses file boundaries; skips gaps
 *   at once (timestamps stay continuous, so the receiver's no-data timeout never trips).
 * - Pace: media time advances at `scale` × wall time (playback) or `downloadSpeed` × (download).
 * - Output timestamps: playback → wall time of the receiver (media time ÷ scale, continuous across
 *   scale changes and seeks); download → recording time (notes §8.3: ZLM's duration is progress).
 * - 'end' once the range or the files are exhausted and every unit has been emitted.
 * Each source owns its ffmpeg readers; nothing here touches the camera.
 * It looks like a CameraFeed to a media session (subscribe/unsubscribe/gopSnapshot/audioCodec).
 */
import { EventEmitter } from 'node:events';
import { ErrorContext } from '../errors';
import { Logger, silentLogger } from '../logger';
import { AccessUnit, AudioCodec, isVideoCodec } from '../media/access-unit';
import { RecordSegment } from './record-segment';
import { RecordingFileReader, playbackAudioCodec } from './recording-file-reader';

/** What a media session needs from any source of access units (CameraFeed has the same shape). */
export interface AccessUnitSubscriber {
  onUnit(au: AccessUnit): void;
  onDiscontinuity(): void;
}

export type PlaybackMode = 'playback' | 'download';

export interface PlaybackSourceOptions {
  /** Identifies the source like a camera feed's key (default `playback`). */
  key?: string;
  /** Segments overlapping the range (RecordArchive.query), any order. */
  segments: readonly RecordSegment[];
  /** Requested range, Unix ms (t= × 1000). */
  startMs: number;
  endMs: number;
  ffmpegPath: string;
  mode?: PlaybackMode;
  /** Download pace (a=downloadspeed), default 1. */
  downloadSpeed?: number;
  /** Media ms read ahead of the pace (default 2000, times the pace). */
  readAheadMs?: number;
  /** Start reading on the first subscribe (default true). */
  startOnSubscribe?: boolean;
  /** Stop when the last subscriber unsubscribes after the start (default true). */
  stopWhenUnsubscribed?: boolean;
  logger?: Logger;
  context?: ErrorContext;
}

export interface PlaybackSourceEvents {
  /** Every unit as emitted (after pacing), with its recording time. */
  unit: [au: AccessUnit, recordingMs: number];
  /** The range or the files are exhausted (MediaStatus 121 follows), or stop() was called. */
  end: [reason: 'range-end' | 'no-recordings' | 'stopped'];
  /** A file could not be read; playback goes on with the next one. */
  skipped: [file: string, error: Error];
}

interface Queued {
  au: AccessUnit;
  /** Recording time of the unit's presentation, Unix ms. */
  recMs: number;
  /** Continuous content time (gaps removed) of its decoding, ms. */
  mediaMs: number;
}

const TS_MOD = 0x200000000;
export const MIN_SCALE = 0.25;
export const MAX_SCALE = 8;

export class PlaybackSource extends EventEmitter<PlaybackSourceEvents> {
  private readonly segments: RecordSegment[];
  private readonly logger: Logger;
  private readonly subscribers = new Set<AccessUnitSubscriber>();
  private readonly queue: Queued[] = [];
  private reader: RecordingFileReader | undefined;
  private segIndex = 0;
  private readerDone = true;
  private started = false;
  private finished = false;
  private paused = false;
  private rate: number;
  private scale = 1;
  private timer: NodeJS.Timeout | undefined;
  // Pace: media time allowed = anchorMedia + (now - anchorWall) × rate.
  private anchorWall = -1;
  private anchorMedia = 0;
  // Per reader run: maps the file's timestamps into continuous media time.
  private runRecBase = -1;
  private runMediaBase = 0;
  private runDtsBase = 0;
  private runWaitingKeyframe = true;
  private skipUntilRecMs = -Infinity;
  private lastQueuedRecMs = -Infinity;
  private lastQueuedMediaMs = -1;
  private lastEmittedMediaMs = -1;
  private lastEmittedRecMs: number;
  private frameIntervalMs = 40;
  private lastVideoDts = -1;
  // Output clock (playback): out = outAnchor + (media - outMediaAnchor) / scale.
  private outAnchorMs = 0;
  private outMediaAnchor = 0;
  readonly key: string;
  /** Set once audio units have been emitted. */
  audioCodec: AudioCodec | undefined;
  /** The archive's audio codec for this range, known before any unit flows. */
  readonly expectedAudioCodec: AudioCodec | undefined;

  constructor(private readonly options: PlaybackSourceOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.key = options.key ?? 'playback';
    this.segments = [...options.segments].filter((s) => s.endMs > options.startMs && s.startMs < options.endMs).sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
    this.rate = options.mode === 'download' ? clampScale(options.downloadSpeed ?? 1) : 1;
    this.lastEmittedRecMs = options.startMs;
    this.expectedAudioCodec = this.segments.map((s) => playbackAudioCodec(s.audioCodec)).find((c) => c !== undefined);
  }

  get mode(): PlaybackMode {
    return this.options.mode ?? 'playback';
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Recording time of the last emitted unit, Unix ms. */
  get positionMs(): number {
    return this.lastEmittedRecMs;
  }

  get currentScale(): number {
    return this.mode === 'download' ? this.rate : this.scale;
  }

  subscribe(s: AccessUnitSubscriber): void {
    this.subscribers.add(s);
    if (this.options.startOnSubscribe !== false) this.start();
  }

  /** The last subscriber leaving (the session's BYE) stops the source and its ffmpeg. */
  unsubscribe(s: AccessUnitSubscriber): void {
    this.subscribers.delete(s);
    if (!this.subscribers.size && this.started && this.options.stopWhenUnsubscribed !== false) this.stop();
  }

  /** A recording has no live GOP to replay: the first unit read is a keyframe. */
  gopSnapshot(): AccessUnit[] {
    return [];
  }

  start(): void {
    if (this.started || this.finished) return;
    this.started = true;
    this.openAt(this.options.startMs);
  }

  stop(): void {
    if (this.finished) return;
    this.closeReader();
    this.queue.length = 0;
    this.finish('stopped');
  }

  /** MANSRTSP PAUSE: nothing more is emitted until resume(); the position is held. */
  pause(): void {
    if (this.paused || this.finished) return;
    this.paused = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
  }

  /** MANSRTSP PLAY `Range: npt=now-`: continue from the held position. */
  resume(): void {
    if (!this.paused || this.finished) return;
    this.paused = false;
    this.reanchor(this.queue.length ? this.queue[0].mediaMs : this.lastEmittedMediaMs + this.frameIntervalMs);
    this.tick();
  }

  /** MANSRTSP `Scale:` 0.25..8 (values outside are clamped). */
  setScale(scale: number): void {
    const s = clampScale(scale);
    const media = this.currentMedia();
    if (this.mode !== 'download') {
      if (this.lastEmittedMediaMs >= 0) {
        this.outAnchorMs = this.outOf(media);
        this.outMediaAnchor = media;
      }
      this.scale = s;
    }
    this.rate = s;
    if (this.anchorWall < 0) return; // not playing yet: the first unit anchors the clock
    this.reanchor(media);
    if (!this.paused) this.tick();
  }

  /** MANSRTSP PLAY `Range: npt=N-`: N seconds of recording time after the range start. */
  seek(offsetSeconds: number): void {
    if (this.finished || !Number.isFinite(offsetSeconds)) return;
    const target = Math.min(Math.max(this.options.startMs, this.options.startMs + offsetSeconds * 1000), this.options.endMs);
    this.closeReader();
    this.queue.length = 0;
    this.lastQueuedRecMs = -Infinity;
    this.lastQueuedMediaMs = this.lastEmittedMediaMs;
    this.skipUntilRecMs = -Infinity;
    this.anchorWall = -1;
    this.started = true;
    for (const s of this.subscribers) s.onDiscontinuity();
    this.openAt(target);
  }

  // ---- reading ----

  private openAt(recMs: number): void {
    this.segIndex = this.segments.findIndex((s) => s.endMs > recMs);
    if (this.segIndex < 0) { this.readerDone = true; this.maybeEnd(); return; }
    this.openSegment(recMs);
  }

  private openSegment(fromRecMs: number): void {
    const seg = this.segments[this.segIndex];
    const offsetSec = Math.max(0, (fromRecMs - seg.startMs) / 1000);
    const reader = new RecordingFileReader(this.options.ffmpegPath, seg, offsetSec);
    this.reader = reader;
    this.readerDone = false;
    this.runRecBase = -1;
    this.runWaitingKeyframe = true;
    reader.on('unit', (au) => { if (this.reader === reader) this.onReaderUnit(seg, au); });
    reader.on('end', (err) => {
      if (this.reader !== reader) return;
      if (err) {
        this.logger.warn(`recording skipped: ${err.message}`, { ...this.options.context, file: seg.path });
        this.emit('skipped', seg.path, err);
      }
      this.reader = undefined;
      this.nextSegment();
    });
    reader.start();
  }

  private nextSegment(): void {
    this.segIndex++;
    while (this.segIndex < this.segments.length && this.segments[this.segIndex].endMs <= this.lastQueuedRecMs) this.segIndex++;
    if (this.segIndex >= this.segments.length || this.segments[this.segIndex].startMs >= this.options.endMs || this.lastQueuedRecMs >= this.options.endMs) {
      this.readerDone = true;
      this.maybeEnd();
      return;
    }
    // Overlapping files (two folders, or a recorder restart): skip what was already played.
    this.skipUntilRecMs = this.lastQueuedRecMs;
    this.openSegment(Math.max(this.segments[this.segIndex].startMs, this.lastQueuedRecMs));
  }

  private closeReader(): void {
    const r = this.reader;
    this.reader = undefined;
    this.readerDone = true;
    r?.stop();
  }

  private onReaderUnit(seg: RecordSegment, au: AccessUnit): void {
    const video = isVideoCodec(au.codec);
    const recMs = seg.startMs + (unwrap(au.pts, seg.startTimeSec) / 90 - seg.startTimeSec * 1000);
    if (this.runWaitingKeyframe) {
      if (!video || !au.keyframe || recMs <= this.skipUntilRecMs) return;
      this.runWaitingKeyframe = false;
    }
    if (video && recMs >= this.options.endMs) {
      // Past the range: this run is over.
      const r = this.reader;
      this.reader = undefined;
      r?.stop();
      this.readerDone = true;
      this.lastQueuedRecMs = Math.max(this.lastQueuedRecMs, recMs);
      this.maybeEnd();
      return;
    }
    const dtsMs = unwrap(au.dts, seg.startTimeSec) / 90;
    if (this.runRecBase < 0) {
      // First unit of a run: continue media time right after what came before (gap skipped).
      const delta = recMs - this.lastQueuedRecMs;
      const step = this.lastQueuedMediaMs < 0 ? 0 : delta > 0 && delta <= 1000 ? delta : this.frameIntervalMs;
      this.runMediaBase = this.lastQueuedMediaMs < 0 ? 0 : this.lastQueuedMediaMs + step;
      this.runDtsBase = dtsMs;
      this.runRecBase = recMs;
    }
    const mediaMs = this.runMediaBase + (dtsMs - this.runDtsBase);
    if (video) {
      if (this.lastVideoDts >= 0) {
        const d = mediaMs - this.lastQueuedMediaMs;
        if (d > 0 && d < 1000) this.frameIntervalMs = d;
      }
      this.lastVideoDts = dtsMs;
      this.lastQueuedRecMs = Math.max(this.lastQueuedRecMs, recMs);
    }
    this.lastQueuedMediaMs = Math.max(this.lastQueuedMediaMs, mediaMs);
    this.queue.push({ au, recMs, mediaMs });
    if (this.anchorWall < 0) this.reanchor(mediaMs);
    if (this.queueSpanMs() > this.readAheadMs()) this.reader?.pause();
    if (!this.timer && !this.paused) this.tick();
  }

  private readAheadMs(): number {
    return Math.max(1000, (this.options.readAheadMs ?? 2000) * this.rate);
  }

  private queueSpanMs(): number {
    return this.queue.length ? this.queue[this.queue.length - 1].mediaMs - this.queue[0].mediaMs : 0;
  }

  // ---- pacing ----

  private reanchor(media: number): void {
    this.anchorWall = Date.now();
    this.anchorMedia = media;
  }

  private allowedMedia(now: number): number {
    return this.anchorMedia + (now - this.anchorWall) * this.rate;
  }

  /** The media position now: the next unit's time when paused or starved, else the paced clock. */
  private currentMedia(): number {
    const head = this.queue.length ? this.queue[0].mediaMs : this.lastEmittedMediaMs + this.frameIntervalMs;
    if (this.paused || this.anchorWall < 0) return head;
    return Math.min(this.allowedMedia(Date.now()), head);
  }

  private tick(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.paused || this.finished) return;
    const now = Date.now();
    let allowed = this.allowedMedia(now);
    // Late by more than half a second (a slow file open): re-anchor instead of bursting.
    if (this.queue.length && allowed - this.queue[0].mediaMs > 500) { this.reanchor(this.queue[0].mediaMs); allowed = this.anchorMedia; }
    while (this.queue.length && this.queue[0].mediaMs <= allowed && !this.paused && !this.finished) {
      this.emitUnit(this.queue.shift() as Queued);
    }
    if (this.finished || this.paused) return;
    if (this.queueSpanMs() < this.readAheadMs() / 2) this.reader?.resume();
    if (!this.queue.length) { this.maybeEnd(); return; }
    const wait = Math.min(100, Math.max(1, (this.queue[0].mediaMs - allowed) / this.rate));
    this.timer = setTimeout(() => { this.timer = undefined; this.tick(); }, wait);
  }

  private outOf(mediaMs: number): number {
    if (this.mode === 'download') return mediaMs;
    return this.outAnchorMs + (mediaMs - this.outMediaAnchor) / this.scale;
  }

  private emitUnit(q: Queued): void {
    const outDtsMs = this.outOf(q.mediaMs);
    const dts = Math.round(outDtsMs * 90) % TS_MOD;
    const ptsOffset = (q.au.pts - q.au.dts + TS_MOD) % TS_MOD;
    const au: AccessUnit = { ...q.au, dts, pts: (dts + ptsOffset) % TS_MOD };
    this.lastEmittedMediaMs = q.mediaMs;
    if (isVideoCodec(au.codec)) this.lastEmittedRecMs = q.recMs;
    else this.audioCodec = au.codec as AudioCodec;
    for (const s of this.subscribers) s.onUnit(au);
    this.emit('unit', au, q.recMs);
  }

  private maybeEnd(): void {
    if (!this.started || this.finished || !this.readerDone || this.queue.length) return;
    if (this.reader) return;
    this.finish(this.lastEmittedMediaMs < 0 ? 'no-recordings' : 'range-end');
  }

  private finish(reason: 'range-end' | 'no-recordings' | 'stopped'): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.closeReader();
    this.logger.debug(`playback source ended: ${reason}`, this.options.context);
    this.emit('end', reason);
  }
}

export function clampScale(scale: number): number {
  if (!Number.isFinite(scale) || scale <= 0) return 1;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** A 33-bit timestamp of a file that started at `startTimeSec`, unwrapped past 2^33 if needed. */
function unwrap(ts90k: number, startTimeSec: number): number {
  return ts90k + 3 * 90000 < startTimeSec * 90000 ? ts90k + TS_MOD : ts90k;
}
