/**
 * The archive index's memory across restarts: ffprobe results keyed by absolute path, valid while
 * the file's size and mtime are unchanged. Stored as one JSON file (written atomically through a
 * temporary name), so a restart re-indexes thousands of files without running ffprobe.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Logger, silentLogger } from '../logger';
import { RecordFileInfo } from './record-file-probe';

export interface CachedProbe {
  size: number;
  mtimeMs: number;
  /** Absent when the file could not be read (so it is not probed again until it changes). */
  info?: RecordFileInfo;
  error?: string;
}

interface CacheFile {
  version: 1;
  entries: Record<string, CachedProbe>;
}

const VERSION = 1;

export class RecordIndexCache {
  private entries = new Map<string, CachedProbe>();
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  private warned = false;

  /** `createDir`: make the cache's folder when missing (a configured cache dir, not an archive folder). */
  constructor(readonly file: string | undefined, private readonly logger: Logger = silentLogger, private readonly saveDelayMs = 2000, private readonly createDir = false) {}

  async load(): Promise<number> {
    if (!this.file) return 0;
    try {
      const text = await fsp.readFile(this.file, 'utf8');
      const parsed = JSON.parse(text) as Partial<CacheFile>;
      if (parsed.version !== VERSION || typeof parsed.entries !== 'object' || parsed.entries === null) return 0;
      this.entries = new Map(Object.entries(parsed.entries));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`record index cache ignored: ${(err as Error).message}`, { file: this.file });
    }
    return this.entries.size;
  }

  /** The cached result when size and mtime still match. */
  lookup(file: string, size: number, mtimeMs: number): CachedProbe | undefined {
    const e = this.entries.get(file);
    return e && e.size === size && e.mtimeMs === mtimeMs ? e : undefined;
  }

  put(file: string, entry: CachedProbe): void {
    this.entries.set(file, entry);
    this.markDirty();
  }

  delete(file: string): void {
    if (this.entries.delete(file)) this.markDirty();
  }

  /** Drops entries for files not in `alive` (after a full scan). */
  retainOnly(alive: Set<string>): void {
    for (const k of this.entries.keys()) if (!alive.has(k)) { this.entries.delete(k); this.dirty = true; }
  }

  private markDirty(): void {
    this.dirty = true;
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => { this.saveTimer = undefined; void this.flush(); }, this.saveDelayMs);
    this.saveTimer.unref();
  }

  /** Writes the cache now if it changed. Never throws (a read-only folder just means no cache). */
  flush(): Promise<void> {
    if (this.saveTimer) { clearTimeout(this.saveTimer); this.saveTimer = undefined; }
    this.saving = this.saving.then(async () => {
      if (!this.file || !this.dirty) return;
      this.dirty = false;
      const body: CacheFile = { version: VERSION, entries: Object.fromEntries(this.entries) };
      const tmp = `${this.file}.${process.pid}.tmp`;
      try {
        if (this.createDir) await fsp.mkdir(path.dirname(this.file), { recursive: true });
        await fsp.writeFile(tmp, JSON.stringify(body));
        await fsp.rename(tmp, this.file);
      } catch (err) {
        // Once: a read-only archive just means re-probing after a restart.
        if (!this.warned) this.logger.warn(`record index cache not saved: ${(err as Error).message}`, { file: this.file });
        this.warned = true;
        await fsp.rm(tmp, { force: true }).catch(() => undefined);
      }
    });
    return this.saving;
  }
}
