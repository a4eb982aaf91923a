/**
 * One CameraFeed per source key, shared by every session of that channel (reference counted). A
 * feed stops `keepWarmMs` after its last session ends, or stays warm (Infinity, or keepWarm()).
 */
import { EventEmitter } from 'node:events';
import { Logger, childLogger, silentLogger } from '../logger';
import { CameraFeed } from './camera-feed';
import { FfBinary } from './ffmpeg-path';
import { IngestError } from './ingest-error';
import { MediaSourceSpec, SourceState, SourceStats } from './media-source';

export interface CameraFeedPoolOptions {
  ffmpeg: () => FfBinary;
  logger?: Logger;
  gopCache?: boolean;
  keepWarmMs?: number;
  stallTimeoutMs?: number;
  statsIntervalMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export interface CameraFeedPoolEvents {
  'source-state': [key: string, state: SourceState, reason: string | undefined, error: IngestError | undefined];
  stats: [stats: SourceStats];
}

interface Entry {
  feed: CameraFeed;
  refs: number;
  warm: boolean;
  stopTimer?: NodeJS.Timeout;
}

export class CameraFeedPool extends EventEmitter<CameraFeedPoolEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly logger: Logger;

  constructor(private readonly options: CameraFeedPoolOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
  }

  get(key: string): CameraFeed | undefined {
    return this.entries.get(key)?.feed;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the running feed for spec.key, starting it if needed; pair every call with release(). */
  acquire(spec: MediaSourceSpec): CameraFeed {
    const entry = this.entry(spec);
    entry.refs++;
    return entry.feed;
  }

  release(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.refs = Math.max(0, entry.refs - 1);
    if (entry.refs > 0 || entry.warm) return;
    const keepWarmMs = this.options.keepWarmMs ?? 15000;
    if (!Number.isFinite(keepWarmMs)) return;
    if (entry.stopTimer) clearTimeout(entry.stopTimer);
    entry.stopTimer = setTimeout(() => {
      if (entry.refs === 0 && !entry.warm) this.remove(key);
    }, keepWarmMs);
    entry.stopTimer.unref();
  }

  /** Starts the feed (if needed) and keeps it running with no session until close(). */
  keepWarm(spec: MediaSourceSpec): CameraFeed {
    const entry = this.entry(spec);
    entry.warm = true;
    return entry.feed;
  }

  close(): void {
    for (const key of [...this.entries.keys()]) this.remove(key);
  }

  private entry(spec: MediaSourceSpec): Entry {
    let entry = this.entries.get(spec.key);
    if (entry) {
      if (entry.stopTimer) { clearTimeout(entry.stopTimer); entry.stopTimer = undefined; }
      return entry;
    }
    const o = this.options;
    const feed = new CameraFeed({
      spec,
      ffmpeg: o.ffmpeg(),
      logger: childLogger(this.logger, `[${spec.key}]`),
      gopCache: o.gopCache,
      stallTimeoutMs: o.stallTimeoutMs,
      statsIntervalMs: o.statsIntervalMs,
      backoffMinMs: o.backoffMinMs,
      backoffMaxMs: o.backoffMaxMs,
    });
    feed.on('state', (state, reason, error) => this.emit('source-state', spec.key, state, reason, error));
    feed.on('stats', (s) => this.emit('stats', s));
    entry = { feed, refs: 0, warm: false };
    this.entries.set(spec.key, entry);
    feed.start();
    return entry;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.stopTimer) clearTimeout(entry.stopTimer);
    this.entries.delete(key);
    entry.feed.stop();
    entry.feed.removeAllListeners();
  }
}
