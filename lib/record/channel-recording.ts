/**
 * One channel's recordings as the gateway wires them: its archive (RecordArchive over the
 * channel's record folders) and, when configured, its recorder writing into the first folder.
 * Also answers GbDevice's RecordQuery for a set of channels and opens Playback/Download sources.
 */
import { Logger, silentLogger } from '../logger';
import { RecordQuery } from '../manscdp/record-info-response';
import { StreamRequest } from '../session/stream-contract';
import { archiveRecordQuery } from './archive-record-query';
import { PlaybackSource } from './playback-source';
import { openPlaybackSource } from './playback-request';
import { RecordArchive, RecordFolderSpec } from './record-archive';
import { DEFAULT_RECORD_NAME_PATTERN } from './record-name-pattern';
import { AccessUnitFeed, FeedLease, RecordMode, RecordRetention, Recorder } from './recorder';

export interface ChannelRecordingConfig {
  channelId: string;
  /** RecordInfo item Name (default the channel ID). */
  name?: string;
  /** SourceConfig.recordDirs, or folder specs with their own name pattern. */
  recordDirs: (string | RecordFolderSpec)[];
  /** PlatformConfig.timeZone. */
  timeZone: string;
  cacheDir?: string;
  recorder?: {
    mode: RecordMode;
    segmentSeconds?: number;
    retention?: RecordRetention;
  };
}

export interface ChannelRecordingDeps {
  ffprobePath: string;
  ffmpegPath: string;
  /** The channel's shared ingest for the recorder: a feed, or a lease on MediaService's pool. */
  feed?: AccessUnitFeed;
  feedLease?: FeedLease;
  logger?: Logger;
}

export class ChannelRecording {
  readonly archive: RecordArchive;
  readonly recorder: Recorder | undefined;

  constructor(readonly config: ChannelRecordingConfig, private readonly deps: ChannelRecordingDeps) {
    const logger = deps.logger ?? silentLogger;
    this.archive = new RecordArchive({
      channelId: config.channelId, folders: config.recordDirs, timeZone: config.timeZone,
      ffprobePath: deps.ffprobePath, cacheDir: config.cacheDir, logger,
    });
    const first = config.recordDirs[0];
    const rec = config.recorder;
    const spec: RecordFolderSpec | undefined = typeof first === 'string' ? { dir: first } : first;
    if (rec && rec.mode !== 'off' && spec && spec.nameMarks === 'end') {
      logger.warn('recorder not started: the first record folder names files by their end time, the recorder names them by their start', { channelId: config.channelId, dir: spec.dir });
    } else if (rec && rec.mode !== 'off' && spec && (deps.feed || deps.feedLease)) {
      this.recorder = new Recorder({
        channelId: config.channelId, folder: spec.dir, timeZone: config.timeZone, mode: rec.mode,
        pattern: spec.pattern ?? DEFAULT_RECORD_NAME_PATTERN,
        segmentSeconds: rec.segmentSeconds, retention: rec.retention,
        feed: deps.feed, feedLease: deps.feed ? undefined : deps.feedLease,
        onSegmentClosed: (f) => this.archive.refresh(f), logger,
      });
    }
  }

  /** Starts indexing (in the background) and, in continuous mode, recording. Returns at once. */
  start(): void {
    this.archive.start();
    this.recorder?.start();
  }

  async stop(): Promise<void> {
    await this.recorder?.stop();
    await this.archive.stop();
  }

  /** A source for a Playback/Download INVITE; throws GatewayError with sipStatus 400/404. */
  openPlayback(req: StreamRequest): PlaybackSource {
    return openPlaybackSource(req, this.archive, { ffmpegPath: this.deps.ffmpegPath, logger: this.deps.logger });
  }
}

/** GbDevice's `recordQuery` over every channel's archive. */
export function channelsRecordQuery(channels: ReadonlyMap<string, ChannelRecording>, timeZone: string): RecordQuery {
  return archiveRecordQuery((id) => {
    const c = channels.get(id);
    return c ? { archive: c.archive, name: c.config.name } : undefined;
  }, timeZone);
}
