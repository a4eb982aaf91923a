/**
 * The gateway's own recorder for one channel. It takes the access units the shared camera ingest
 * already produces (subscribed like a live session: no second RTSP connection) and writes MPEG-TS
 * segments into the channel's archive folder, named by their start time in the platform's zone
 * with the archive's pattern (default `{YYYY-MM-DD}/{HH-mm-ss}.ts`), so the archive indexes and
 * plays them like any other file.
 *
 * - Modes: `off`; `continuous` (records from start()); `on-command` (RecordCmd Record/StopRecord,
 *   GB28181-2016 §9.3.2 / Annex A.2.3).
 * - A segment is cut at the first keyframe after `segmentSeconds` of media time, or when the source
 *   restarts. While written it is `<name>.ts.part` (not indexed), renamed when closed.
 * - Retention: after each segment, the oldest `.ts` recordings in the folder are deleted beyond
 *   `maxAgeMs` and while the folder holds more than `maxBytes`.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { GatewayError } from '../errors';
import { Logger, silentLogger } from '../logger';
import { AccessUnit, isVideoCodec } from '../media/access-unit';
import { MpegTsWriter } from './mpeg-ts-writer';
import { AccessUnitSubscriber } from './playback-source';
import { DEFAULT_RECORD_NAME_PATTERN, RecordNamePattern } from './record-name-pattern';
import { assertTimeZone, wallClockAt, wallClockToMs } from './zoned-time';

export type RecordMode = 'off' | 'continuous' | 'on-command';

/** The shared ingest as the recorder sees it (CameraFeed has this shape). */
export interface AccessUnitFeed {
  subscribe(s: AccessUnitSubscriber): void;
  unsubscribe(s: AccessUnitSubscriber): void;
  /** Audio codec flowing / announced by the source, when known (CameraFeed has both). */
  audioCodec?: string;
  expectedAudioCodec?: string;
}

/** A reference-counted hold on the shared ingest of this channel. */
export interface FeedLease {
  /** Starts (or joins) the camera pull; undefined when the channel has no camera. */
  acquire(): AccessUnitFeed | undefined;
  release(): void;
}

export interface RecordRetention {
  /** Delete recordings whose file is older than this (ms); undefined = no age limit. */
  maxAgeMs?: number;
  /** Keep the folder's recordings under this many bytes; undefined = no size limit. */
  maxBytes?: number;
}

export interface RecorderOptions {
  channelId: string;
  /** Folder the segments go to (the channel's first archive folder). */
  folder: string;
  timeZone: string;
  mode: RecordMode;
  /** Name pattern, as the archive's (default `{YYYY-MM-DD}/{HH-mm-ss}`). */
  pattern?: string;
  /** Segment length (default 600 s). */
  segmentSeconds?: number;
  retention?: RecordRetention;
  /**
   * The shared ingest: a feed that stays up on its own, or a lease taken while recording (maps
   * onto MediaService's pool acquire/release so an on-command recorder pulls the camera only
   * while it records). Exactly one of the two.
   */
  feed?: AccessUnitFeed;
  feedLease?: FeedLease;
  /** Told about every closed segment (RecordArchive.refresh), so it is listed at once. */
  onSegmentClosed?: (file: string) => Promise<unknown> | void;
  logger?: Logger;
  /** Wall clock (tests). */
  now?: () => number;
}

export interface RecordedSegment {
  path: string;
  startMs: number;
  durationMs: number;
  bytes: number;
}

export interface RecorderEvents {
  /** Recording turned on or off. */
  state: [recording: boolean];
  segment: [segment: RecordedSegment];
  /** Recordings deleted by retention. */
  deleted: [files: string[]];
  error: [error: GatewayError];
}

interface OpenSegment {
  final: string;
  part: string;
  stream: fs.WriteStream;
  writer: MpegTsWriter;
  startMs: number;
  firstDts: number;
  lastDts: number;
  bytes: number;
  /** Shift that makes the segment's first DTS 1.4 s (ffmpeg's habit, keeps PCR above 0). */
  shift: number;
}

const TS_MOD = 0x200000000;
const EXT = '.ts';

export class RecorderError extends GatewayError {}

export class Recorder extends EventEmitter<RecorderEvents> implements AccessUnitSubscriber {
  private readonly logger: Logger;
  private readonly pattern: RecordNamePattern;
  private readonly now: () => number;
  private active = false;
  private started = false;
  private current: OpenSegment | undefined;
  private closing: Promise<void> = Promise.resolve();
  private retentionRunning: Promise<string[]> | undefined;
  private feed: AccessUnitFeed | undefined;
  /** AAC seen from the source: declared in every later segment's PMT. */
  private sawAac = false;

  constructor(private readonly options: RecorderOptions) {
    super();
    assertTimeZone(options.timeZone);
    this.logger = options.logger ?? silentLogger;
    this.pattern = new RecordNamePattern(options.pattern ?? DEFAULT_RECORD_NAME_PATTERN);
    this.now = options.now ?? Date.now;
    if (!options.feed === !options.feedLease) throw new RecorderError('RECORD_CONFIG', 'a Recorder needs exactly one of feed or feedLease', { channelId: options.channelId });
  }

  get mode(): RecordMode {
    return this.options.mode;
  }

  /** True while segments are being written (node status `recording`). */
  get recording(): boolean {
    return this.active;
  }

  /** Continuous mode begins recording; the other modes wait (for a RecordCmd, or forever). */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.recoverPartials();
    if (this.options.mode === 'continuous') this.setActive(true);
  }

  /** `.ts.part` files left by a crash are valid MPEG-TS up to the crash: keep them as recordings. */
  private async recoverPartials(): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try { entries = await fsp.readdir(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && !e.name.startsWith('.')) await walk(full);
        else if (e.isFile() && e.name.endsWith(`${EXT}.part`) && full !== this.current?.part) {
          const final = full.slice(0, -'.part'.length);
          try {
            await fsp.rename(full, final);
            this.logger.info(`recovered an unfinished recording: ${final}`, { channelId: this.options.channelId });
            await this.options.onSegmentClosed?.(final);
          } catch { /* leave it */ }
        }
      }
    };
    await walk(this.options.folder);
  }

  /** Stops recording and closes the open segment. */
  async stop(): Promise<void> {
    this.started = false;
    this.setActive(false);
    await this.closeCurrent();
  }

  /** RecordCmd `Record`: false when this channel's recorder is off (answer Result ERROR). */
  recordCommand(): boolean {
    if (this.options.mode === 'off') return false;
    this.started = true;
    this.setActive(true);
    return true;
  }

  /** RecordCmd `StopRecord`: false when the recorder is off. */
  stopRecordCommand(): boolean {
    if (this.options.mode === 'off') return false;
    this.setActive(false);
    void this.closeCurrent();
    return true;
  }

  private setActive(on: boolean): void {
    if (on === this.active) return;
    this.active = on;
    if (on) {
      this.feed = this.options.feed ?? this.options.feedLease?.acquire();
      this.feed?.subscribe(this);
    } else {
      this.feed?.unsubscribe(this);
      if (!this.options.feed) this.options.feedLease?.release();
      this.feed = undefined;
    }
    this.logger.info(on ? 'recording started' : 'recording stopped', { channelId: this.options.channelId });
    this.emit('state', on);
  }

  // ---- AccessUnitSubscriber ----

  onUnit(au: AccessUnit): void {
    if (!this.active) return;
    const video = isVideoCodec(au.codec);
    if (au.codec === 'aac') this.sawAac = true;
    const seg = this.current;
    if (video && au.keyframe) {
      const segmentMs = (this.options.segmentSeconds ?? 600) * 1000;
      if (!seg || ((au.dts - seg.firstDts + TS_MOD) % TS_MOD) / 90 >= segmentMs) {
        void this.closeCurrent();
        this.open(au);
      }
    }
    const cur = this.current;
    if (!cur) return; // waiting for a keyframe
    const shifted: AccessUnit = { ...au, pts: (au.pts + cur.shift) % TS_MOD, dts: (au.dts + cur.shift) % TS_MOD };
    for (const p of cur.writer.write(shifted)) { cur.stream.write(p); cur.bytes += p.length; }
    if (video) cur.lastDts = au.dts;
  }

  /** The source restarted (timestamps jump): close the segment, the next begins at a keyframe. */
  onDiscontinuity(): void {
    void this.closeCurrent();
  }

  private open(au: AccessUnit): void {
    const startMs = this.now();
    let rel = this.pattern.format(wallClockAt(startMs, this.options.timeZone)) + EXT;
    let final = path.join(this.options.folder, rel);
    // Two segments in one second (a quick restart): the later one takes the next free second.
    for (let bump = 1; fs.existsSync(final) && bump < 60; bump++) {
      rel = this.pattern.format(wallClockAt(startMs + bump * 1000, this.options.timeZone)) + EXT;
      final = path.join(this.options.folder, rel);
    }
    const part = `${final}.part`;
    try {
      fs.mkdirSync(path.dirname(final), { recursive: true });
    } catch (err) {
      this.fail(new RecorderError('RECORD_WRITE_FAILED', `cannot create ${path.dirname(final)}: ${(err as Error).message}`, { channelId: this.options.channelId }));
      return;
    }
    const stream = fs.createWriteStream(part);
    stream.on('error', (err) => this.fail(new RecorderError('RECORD_WRITE_FAILED', `cannot write ${part}: ${err.message}`, { channelId: this.options.channelId })));
    const feed = this.feed;
    const withAac = this.sawAac || feed?.audioCodec === 'aac' || feed?.expectedAudioCodec === 'aac';
    this.current = {
      final, part, stream, writer: new MpegTsWriter(au.codec === 'h265' ? 'h265' : 'h264', withAac),
      startMs, firstDts: au.dts, lastDts: au.dts, bytes: 0, shift: (126000 - au.dts + TS_MOD) % TS_MOD,
    };
  }

  private fail(error: RecorderError): void {
    this.logger.error(error.message, error.context);
    const cur = this.current;
    this.current = undefined;
    cur?.stream.destroy();
    if (this.listenerCount('error')) this.emit('error', error);
  }

  private closeCurrent(): Promise<void> {
    const seg = this.current;
    this.current = undefined;
    if (!seg) return this.closing;
    this.closing = this.closing.then(() => this.finishSegment(seg));
    return this.closing;
  }

  private async finishSegment(seg: OpenSegment): Promise<void> {
    await new Promise<void>((resolve) => { if (seg.stream.destroyed) resolve(); else seg.stream.end(() => resolve()); });
    if (!seg.bytes) { await fsp.rm(seg.part, { force: true }); return; }
    try {
      await fsp.rename(seg.part, seg.final);
    } catch (err) {
      this.fail(new RecorderError('RECORD_WRITE_FAILED', `cannot close ${seg.final}: ${(err as Error).message}`, { channelId: this.options.channelId }));
      return;
    }
    const durationMs = Math.round(((seg.lastDts - seg.firstDts + TS_MOD) % TS_MOD) / 90);
    const done: RecordedSegment = { path: seg.final, startMs: seg.startMs, durationMs, bytes: seg.bytes };
    try { await this.options.onSegmentClosed?.(seg.final); } catch { /* the index retries on its own */ }
    this.emit('segment', done);
    await this.enforceRetention();
  }

  /** Deletes the oldest recordings beyond the age and size limits; returns the deleted paths. */
  enforceRetention(): Promise<string[]> {
    if (this.retentionRunning) return this.retentionRunning;
    this.retentionRunning = this.retain().finally(() => { this.retentionRunning = undefined; });
    return this.retentionRunning;
  }

  private async retain(): Promise<string[]> {
    const r = this.options.retention;
    if (!r || (r.maxAgeMs === undefined && r.maxBytes === undefined)) return [];
    const files = await this.listRecordings();
    files.sort((a, b) => a.timeMs - b.timeMs || a.mtimeMs - b.mtimeMs);
    const now = this.now();
    const deleted: string[] = [];
    let total = files.reduce((n, f) => n + f.size, 0);
    for (const f of files) {
      const tooOld = r.maxAgeMs !== undefined && now - f.mtimeMs > r.maxAgeMs;
      const tooBig = r.maxBytes !== undefined && total > r.maxBytes;
      if (!tooOld && !tooBig) continue;
      try {
        await fsp.rm(f.path);
        deleted.push(f.path);
        total -= f.size;
        await fsp.rmdir(path.dirname(f.path)).catch(() => undefined); // only when emptied
        try { await this.options.onSegmentClosed?.(f.path); } catch { /* forgotten at the next scan */ }
      } catch (err) {
        this.logger.warn(`retention could not delete ${f.path}: ${(err as Error).message}`, { channelId: this.options.channelId });
      }
    }
    if (deleted.length) {
      this.logger.info(`retention deleted ${deleted.length} recording(s)`, { channelId: this.options.channelId });
      this.emit('deleted', deleted);
    }
    return deleted;
  }

  private async listRecordings(): Promise<{ path: string; timeMs: number; size: number; mtimeMs: number }[]> {
    const out: { path: string; timeMs: number; size: number; mtimeMs: number }[] = [];
    const root = this.options.folder;
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try { entries = await fsp.readdir(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) { await walk(full); continue; }
        if (!e.isFile() || path.extname(e.name) !== EXT) continue;
        const rel = path.relative(root, full).split(path.sep).join('/');
        const wall = this.pattern.parse(rel);
        if (!wall) continue;
        try {
          const st = await fsp.stat(full);
          out.push({ path: full, timeMs: wallClockToMs(wall, this.options.timeZone), size: st.size, mtimeMs: st.mtimeMs });
        } catch { /* gone meanwhile */ }
      }
    };
    await walk(root);
    return out;
  }
}
