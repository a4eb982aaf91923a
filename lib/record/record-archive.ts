/**
 * A channel's recording archive: one or more folders of video files, indexed in the background.
 *
 * - start() returns at once; the scan walks the folders with async fs calls (yielding to the event
 *   loop between files) and runs ffprobe on at most `probeConcurrency` files at a time.
 * - Each file's start (or end) time comes from its path (RecordNamePattern) in the platform's time
 *   zone; its length from ffprobe. Results persist in a RecordIndexCache keyed by path+size+mtime.
 * - Files with identical size and identical head and tail bytes (copies of one segment) are probed
 *   once per scan.
 * - New, changed and removed files are picked up through fs.watch (one per directory) once they
 *   have been quiet for `settleMs`, and by a periodic rescan (the only mechanism where fs.watch is
 *   missing).
 * - An unreadable file is skipped and counted, never fatal.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Logger, silentLogger } from '../logger';
import { RecordIndexCache } from './record-index-cache';
import { RecordFileInfo, probeRecordFile } from './record-file-probe';
import { DEFAULT_RECORD_NAME_PATTERN, RecordNamePattern } from './record-name-pattern';
import { RecordSegment, compareSegments } from './record-segment';
import { assertTimeZone, wallClockToMs } from './zoned-time';

export type NameMarks = 'start' | 'end';

export interface RecordFolderSpec {
  dir: string;
  /** Default `{YYYY-MM-DD}/{HH-mm-ss}`. */
  pattern?: string;
  /** Whether the time in the name is the segment's start (default) or its end. */
  nameMarks?: NameMarks;
}

export interface RecordArchiveOptions {
  channelId: string;
  folders: (string | RecordFolderSpec)[];
  /** IANA zone the file names are written in (the platform's zone, default Asia/Shanghai). */
  timeZone: string;
  ffprobePath: string;
  /** Cache file; default `<first folder>/.gb28181-record-index.json`; false for none. */
  cacheFile?: string | false;
  /** Folder for the cache file instead (created when missing), named after the channel. */
  cacheDir?: string;
  probeConcurrency?: number;
  watch?: boolean;
  /** Full rescan period (default 5 min with a watcher, 30 s without). */
  rescanIntervalMs?: number;
  /** A changed file is indexed once it has not been modified for this long (default 1500 ms). */
  settleMs?: number;
  /** Probe identical files (same size, head and tail bytes) once per scan (default true). */
  deduplicateIdentical?: boolean;
  /** File extensions taken as recordings (lower case, with dot). */
  extensions?: string[];
  logger?: Logger;
}

export interface RecordArchiveStats {
  /** Recording files seen (name matched the pattern). */
  files: number;
  /** Files indexed as segments. */
  segments: number;
  /** Files ffprobe could not read. */
  unreadable: number;
  /** Files ignored because the name does not match the pattern. */
  unmatched: number;
  /** ffprobe runs since start. */
  probed: number;
  /** Files taken from the persistent cache since start. */
  fromCache: number;
  /** Files whose probe was reused from an identical file in the same scan. */
  deduplicated: number;
  scanning: boolean;
  /** Duration of the last complete scan, ms. */
  lastScanMs: number;
  watching: boolean;
}

export interface RecordArchiveEvents {
  /** A full scan finished. */
  indexed: [stats: RecordArchiveStats];
  /** The set of segments changed (after the first scan: a file came or went). */
  changed: [];
}

export const DEFAULT_RECORD_EXTENSIONS = ['.avi', '.mp4', '.mkv', '.ts', '.ps', '.mpg', '.mpeg', '.flv', '.mov', '.m4v', '.h264', '.h265', '.dav'];
export const DEFAULT_CACHE_NAME = '.gb28181-record-index.json';
const FINGERPRINT_BYTES = 64 * 1024;

interface Folder {
  dir: string;
  pattern: RecordNamePattern;
  nameMarks: NameMarks;
}

interface FileJob {
  folder: Folder;
  file: string;
  size: number;
  mtimeMs: number;
}

export class RecordArchive extends EventEmitter<RecordArchiveEvents> {
  readonly channelId: string;
  private readonly folders: Folder[];
  private readonly logger: Logger;
  private readonly cache: RecordIndexCache;
  private readonly segments = new Map<string, RecordSegment>();
  private readonly unreadableFiles = new Set<string>();
  private sorted: RecordSegment[] | undefined;
  private readonly extensions: Set<string>;
  private readonly stats: RecordArchiveStats = { files: 0, segments: 0, unreadable: 0, unmatched: 0, probed: 0, fromCache: 0, deduplicated: 0, scanning: false, lastScanMs: 0, watching: false };
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private watchingEnabled = false;
  private readonly settleTimers = new Map<string, NodeJS.Timeout>();
  private rescanTimer: NodeJS.Timeout | undefined;
  private running = false;
  private scanPromise: Promise<void> | undefined;
  private rescanRequested = false;
  private firstScan: Promise<RecordArchiveStats>;
  private resolveFirstScan!: (s: RecordArchiveStats) => void;
  private cacheLoaded: Promise<number> | undefined;
  // Probe queue (bounded concurrency).
  private readonly queue: (() => Promise<void>)[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private fingerprints = new Map<string, Promise<RecordFileInfo>>();

  constructor(private readonly options: RecordArchiveOptions) {
    super();
    assertTimeZone(options.timeZone);
    this.channelId = options.channelId;
    this.logger = options.logger ?? silentLogger;
    this.folders = options.folders.map((f) => {
      const spec: RecordFolderSpec = typeof f === 'string' ? { dir: f } : f;
      return { dir: path.resolve(spec.dir), pattern: new RecordNamePattern(spec.pattern ?? DEFAULT_RECORD_NAME_PATTERN), nameMarks: spec.nameMarks ?? 'start' };
    });
    this.extensions = new Set((options.extensions ?? DEFAULT_RECORD_EXTENSIONS).map((e) => e.toLowerCase()));
    const inDir = options.cacheDir ? path.join(path.resolve(options.cacheDir), `record-index-${options.channelId}.json`) : undefined;
    const cacheFile = options.cacheFile === false ? undefined
      : options.cacheFile ?? inDir ?? (this.folders[0] ? path.join(this.folders[0].dir, DEFAULT_CACHE_NAME) : undefined);
    this.cache = new RecordIndexCache(cacheFile, this.logger, 2000, options.cacheFile !== undefined || inDir !== undefined);
    this.firstScan = new Promise((resolve) => { this.resolveFirstScan = resolve; });
  }

  /** Folders this archive indexes (absolute). */
  get folderPaths(): string[] {
    return this.folders.map((f) => f.dir);
  }

  /** Begins indexing in the background; returns at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.cacheLoaded = this.cache.load();
    if (this.options.watch !== false) this.startWatching();
    this.requestScan();
    const period = this.options.rescanIntervalMs ?? (this.stats.watching ? 300_000 : 60_000);
    this.rescanTimer = setInterval(() => this.requestScan(), period);
    this.rescanTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.watchingEnabled = false;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.stats.watching = false;
    for (const t of this.settleTimers.values()) clearTimeout(t);
    this.settleTimers.clear();
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = undefined;
    this.queue.length = 0;
    await this.whenProbesIdle();
    await this.cache.flush();
  }

  /** Resolves when the first full scan has finished (RecordInfo may be answered before, from what is known). */
  whenIndexed(): Promise<RecordArchiveStats> {
    return this.firstScan;
  }

  getStats(): RecordArchiveStats {
    return { ...this.stats, segments: this.segments.size, unreadable: this.unreadableFiles.size };
  }

  /** Segments overlapping [startMs, endMs), sorted by start then end, unique by (start, end). */
  query(startMs: number, endMs: number): RecordSegment[] {
    const out: RecordSegment[] = [];
    const seen = new Set<string>();
    for (const s of this.all()) {
      if (s.startMs >= endMs) break;
      if (s.endMs <= startMs) continue;
      const key = `${s.startMs}:${s.endMs}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(s);
    }
    return out;
  }

  /** Every indexed segment, sorted. */
  all(): RecordSegment[] {
    if (!this.sorted) {
      // Equal spans: the folder listed first wins (it is the one RecordInfo names).
      const order = new Map(this.folders.map((f, i) => [f.dir, i]));
      this.sorted = [...this.segments.values()].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || (order.get(a.folder) ?? 0) - (order.get(b.folder) ?? 0) || compareSegments(a, b));
    }
    return this.sorted;
  }

  /** Indexes (or drops) one file now, e.g. a segment the recorder just closed. */
  async refresh(file: string): Promise<RecordSegment | undefined> {
    const abs = path.resolve(file);
    const folder = this.folderOf(abs);
    if (!folder) return undefined;
    let st: fs.Stats;
    try { st = await fsp.stat(abs); } catch { this.forget(abs); return undefined; }
    if (!st.isFile()) return undefined;
    await this.indexFile({ folder, file: abs, size: st.size, mtimeMs: st.mtimeMs });
    return this.segments.get(abs);
  }

  private folderOf(abs: string): Folder | undefined {
    return this.folders.find((f) => abs.startsWith(f.dir + path.sep));
  }

  private requestScan(): void {
    if (!this.running) return;
    if (this.scanPromise) { this.rescanRequested = true; return; }
    this.scanPromise = this.scan().catch((err: Error) => {
      this.logger.warn(`record archive scan failed: ${err.message}`, { channelId: this.channelId });
    }).finally(() => {
      this.scanPromise = undefined;
      if (this.rescanRequested && this.running) { this.rescanRequested = false; this.requestScan(); }
    });
  }

  private async scan(): Promise<void> {
    const t0 = Date.now();
    this.stats.scanning = true;
    await this.cacheLoaded;
    this.fingerprints = new Map();
    const alive = new Set<string>();
    let files = 0;
    let unmatched = 0;
    for (const folder of this.folders) {
      if (!this.running) break;
      for await (const file of this.walk(folder.dir)) {
        if (!this.running) break;
        if (!folder.pattern.parse(path.relative(folder.dir, file))) { unmatched++; continue; }
        files++;
        alive.add(file);
        let st: fs.Stats;
        try { st = await fsp.stat(file); } catch { continue; }
        const job: FileJob = { folder, file, size: st.size, mtimeMs: st.mtimeMs };
        // A cache hit is applied inline; a miss waits for a probe slot.
        if (!this.applyCached(job)) this.enqueue(() => this.indexFile(job));
      }
    }
    await this.whenProbesIdle();
    if (!this.running) { this.stats.scanning = false; return; }
    for (const p of [...this.segments.keys()]) if (!alive.has(p)) this.forget(p);
    for (const p of [...this.unreadableFiles]) if (!alive.has(p)) this.unreadableFiles.delete(p);
    this.cache.retainOnly(alive);
    await this.cache.flush();
    this.fingerprints = new Map();
    this.stats.files = files;
    this.stats.unmatched = unmatched;
    this.stats.scanning = false;
    this.stats.lastScanMs = Date.now() - t0;
    const stats = this.getStats();
    this.logger.info(`record archive indexed: ${stats.segments} segments, ${stats.unreadable} unreadable, ${stats.probed} probed, ${stats.fromCache} from cache in ${stats.lastScanMs} ms`, { channelId: this.channelId });
    this.resolveFirstScan(stats);
    this.emit('indexed', stats);
  }

  private async *walk(dir: string): AsyncGenerator<string> {
    let entries: fs.Dirent[];
    try { entries = await fsp.readdir(dir, { withFileTypes: true }); } catch (err) {
      if (dir === this.folders.find((f) => f.dir === dir)?.dir) this.logger.warn(`record folder not readable: ${(err as Error).message}`, { channelId: this.channelId, dir });
      return;
    }
    this.watchDir(dir);
    // Newest names first: with date-named folders the recent days (the ones asked for) index first.
    entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) yield* this.walk(full);
      else if (e.isFile() && this.extensions.has(path.extname(e.name).toLowerCase())) yield full;
    }
  }

  private applyCached(job: FileJob): boolean {
    const hit = this.cache.lookup(job.file, job.size, job.mtimeMs);
    if (!hit) return false;
    this.stats.fromCache++;
    if (hit.info) this.addSegment(job, hit.info);
    else this.markUnreadable(job.file);
    return true;
  }

  private async indexFile(job: FileJob): Promise<void> {
    if (this.applyCached(job)) return;
    try {
      const info = await this.probeDeduplicated(job);
      this.cache.put(job.file, { size: job.size, mtimeMs: job.mtimeMs, info });
      this.addSegment(job, info);
    } catch (err) {
      this.cache.put(job.file, { size: job.size, mtimeMs: job.mtimeMs, error: (err as Error).message });
      this.markUnreadable(job.file);
      this.logger.debug(`recording skipped: ${(err as Error).message}`, { channelId: this.channelId, file: job.file });
    }
  }

  private async probeDeduplicated(job: FileJob): Promise<RecordFileInfo> {
    let key: string | undefined;
    if (this.options.deduplicateIdentical !== false) {
      try { key = await fingerprint(job.file, job.size); } catch { key = undefined; }
    }
    const known = key ? this.fingerprints.get(key) : undefined;
    if (known) {
      this.stats.deduplicated++;
      return known;
    }
    this.stats.probed++;
    const p = probeRecordFile(this.options.ffprobePath, job.file);
    if (key) { this.fingerprints.set(key, p); p.catch(() => undefined); }
    return p;
  }

  private addSegment(job: FileJob, info: RecordFileInfo): void {
    const rel = path.relative(job.folder.dir, job.file).split(path.sep).join('/');
    const wall = job.folder.pattern.parse(rel);
    if (!wall) return;
    const t = wallClockToMs(wall, this.options.timeZone);
    const startMs = job.folder.nameMarks === 'end' ? t - info.durationMs : t;
    const seg: RecordSegment = {
      path: job.file, relativePath: rel, folder: job.folder.dir,
      startMs, endMs: startMs + info.durationMs,
      size: job.size, mtimeMs: job.mtimeMs, startTimeSec: info.startTimeSec,
      ...(info.videoCodec ? { videoCodec: info.videoCodec } : {}),
      ...(info.audioCodec ? { audioCodec: info.audioCodec } : {}),
    };
    const old = this.segments.get(job.file);
    this.unreadableFiles.delete(job.file);
    this.segments.set(job.file, seg);
    this.sorted = undefined;
    if (!old || old.startMs !== seg.startMs || old.endMs !== seg.endMs || old.size !== seg.size) this.changed();
  }

  private markUnreadable(file: string): void {
    this.unreadableFiles.add(file);
    if (this.segments.delete(file)) { this.sorted = undefined; this.changed(); }
  }

  private forget(file: string): void {
    this.unreadableFiles.delete(file);
    this.cache.delete(file);
    if (this.segments.delete(file)) { this.sorted = undefined; this.changed(); }
  }

  private changed(): void {
    if (!this.stats.scanning) this.emit('changed');
  }

  // ---- bounded probe queue ----
  private enqueue(task: () => Promise<void>): void {
    this.queue.push(task);
    this.pump();
  }

  private pump(): void {
    const limit = Math.max(1, this.options.probeConcurrency ?? 2);
    while (this.active < limit && this.queue.length) {
      const task = this.queue.shift() as () => Promise<void>;
      this.active++;
      void task().finally(() => {
        this.active--;
        this.pump();
        if (!this.active && !this.queue.length) { const w = this.idleWaiters; this.idleWaiters = []; for (const f of w) f(); }
      });
    }
  }

  private whenProbesIdle(): Promise<void> {
    if (!this.active && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---- watching ----
  // One non-recursive fs.watch per directory, added as the scan walks (Node 20's recursive mode on
  // Linux walks the whole tree synchronously at start and would block the event loop).
  private startWatching(): void {
    this.watchingEnabled = true;
    for (const folder of this.folders) this.watchDir(folder.dir);
  }

  private watchDir(dir: string): void {
    if (!this.watchingEnabled || !this.running || this.watchers.has(dir)) return;
    try {
      const w = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (typeof name === 'string' && name) this.scheduleSettle(path.join(dir, name));
        else this.requestScan();
      });
      w.on('error', () => {
        // The directory went away (or the watch failed): the next scan re-adds what still exists.
        w.close();
        this.watchers.delete(dir);
        this.stats.watching = this.watchers.size > 0;
      });
      this.watchers.set(dir, w);
      this.stats.watching = true;
    } catch (err) {
      if (this.folders.some((f) => f.dir === dir)) this.logger.info(`record folder not watched (${(err as Error).message}); periodic rescan only`, { channelId: this.channelId, dir });
    }
  }

  private scheduleSettle(file: string): void {
    if (path.basename(file).startsWith('.')) return;
    const old = this.settleTimers.get(file);
    if (old) clearTimeout(old);
    const settleMs = this.options.settleMs ?? 1500;
    const t = setTimeout(() => { this.settleTimers.delete(file); void this.settle(file, settleMs); }, settleMs);
    t.unref();
    this.settleTimers.set(file, t);
  }

  private async settle(file: string, settleMs: number): Promise<void> {
    if (!this.running) return;
    let st: fs.Stats;
    try { st = await fsp.stat(file); } catch {
      // Gone: a file, or a whole directory of them.
      if (this.segments.has(file) || this.unreadableFiles.has(file)) this.forget(file);
      else for (const p of [...this.segments.keys(), ...this.unreadableFiles]) if (p.startsWith(file + path.sep)) this.forget(p);
      return;
    }
    if (st.isDirectory()) { this.watchDir(file); this.requestScan(); return; }
    if (!st.isFile() || !this.extensions.has(path.extname(file).toLowerCase())) return;
    if (Date.now() - st.mtimeMs < settleMs) { this.scheduleSettle(file); return; } // still being written
    const folder = this.folderOf(file);
    if (!folder || !folder.pattern.parse(path.relative(folder.dir, file))) return;
    this.enqueue(() => this.indexFile({ folder, file, size: st.size, mtimeMs: st.mtimeMs }));
  }
}

/** size + SHA-1 of the first and last 64 KiB: equal for copies of one file. */
async function fingerprint(file: string, size: number): Promise<string> {
  const fh = await fsp.open(file, 'r');
  try {
    const hash = createHash('sha1');
    const headLen = Math.min(size, FINGERPRINT_BYTES);
    const head = Buffer.alloc(headLen);
    await fh.read(head, 0, headLen, 0);
    hash.update(head);
    if (size > FINGERPRINT_BYTES) {
      const tailLen = Math.min(size - headLen, FINGERPRINT_BYTES);
      const tail = Buffer.alloc(tailLen);
      await fh.read(tail, 0, tailLen, size - tailLen);
      hash.update(tail);
    }
    return `${size}:${hash.digest('hex')}`;
  } finally {
    await fh.close();
  }
}
