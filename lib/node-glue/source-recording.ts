/**
 * An rtsp-source node's recordings (issue #7): its archive (the folders on the node, indexed in
 * the background) and its recorder, which leases the camera from the runtime's shared feed pool so
 * live view and recording share one RTSP pull. The node answers through this object the device
 * (RecordInfo, RecordCmd) and the sender (Playback/Download readers).
 */
import { EventEmitter } from 'node:events';
import { GatewayError } from '../errors';
import { Logger, silentLogger } from '../logger';
import { RecordItem } from '../manscdp/record-info-response';
import { locateFfTool } from '../media/ffmpeg-path';
import { MediaSourceSpec } from '../media/media-source';
import { TranscodeOptions } from '../media/rtsp-ingest';
import { archiveRecordQuery } from '../record/archive-record-query';
import { ChannelRecording } from '../record/channel-recording';
import { PlaybackSource } from '../record/playback-source';
import { StreamRequest } from '../session/stream-contract';
import { joinSharedFeedPool, SharedFeedPoolMembership, sharedFeedLease } from './shared-feed-pool';
import { readSourceRecordingSettings, SourceRecordingSettings } from './source-recording-settings';

export interface SourceRecordingOptions {
  channelId: string;
  /** RecordInfo item Name. */
  name: string;
  settings: SourceRecordingSettings;
  /** Zone the file names are written in: the platform's (wvp-register time zone). */
  timeZone: string;
  /** One object per Node-RED runtime (RED.events): the key of the shared feed pool. */
  runtimeKey: object;
  /** The channel's main stream for the recorder, pulled with the senders' transcode option. */
  mediaSpec: (transcode?: TranscodeOptions) => MediaSourceSpec | undefined;
  logger?: Logger;
}

export interface SourceRecordingEvents {
  /** The recorder started or stopped writing. */
  recording: [on: boolean];
}

export class SourceRecording extends EventEmitter<SourceRecordingEvents> {
  private readonly channel: ChannelRecording;
  private readonly membership: SharedFeedPoolMembership | undefined;
  private stopped = false;

  /** Throws a GatewayError when ffmpeg/ffprobe cannot be found or a setting is invalid. */
  constructor(private readonly o: SourceRecordingOptions) {
    super();
    const logger = o.logger ?? silentLogger;
    const ffprobe = locateFfTool('ffprobe', { logger });
    const ffmpeg = locateFfTool('ffmpeg', { logger });
    const s = o.settings;
    const recorderOn = s.mode !== 'off' && s.dirs.length > 0;
    this.membership = recorderOn ? joinSharedFeedPool(o.runtimeKey, undefined, logger) : undefined;
    try {
      this.channel = new ChannelRecording(
        {
          channelId: o.channelId,
          name: o.name,
          recordDirs: s.dirs.map((dir) => ({ dir, pattern: s.pattern, nameMarks: s.nameMarks })),
          timeZone: o.timeZone,
          ...(recorderOn ? {
            recorder: {
              mode: s.mode,
              segmentSeconds: s.segmentSeconds,
              retention: {
                ...(s.maxAgeDays !== undefined ? { maxAgeMs: s.maxAgeDays * 86_400_000 } : {}),
                ...(s.maxSizeMb !== undefined ? { maxBytes: s.maxSizeMb * 1024 * 1024 } : {}),
              },
            },
          } : {}),
        },
        {
          ffprobePath: ffprobe.path,
          ffmpegPath: ffmpeg.path,
          ...(this.membership ? { feedLease: sharedFeedLease(this.membership, o.mediaSpec) } : {}),
          logger,
        },
      );
    } catch (e) {
      this.membership?.leave();
      throw e;
    }
    this.channel.recorder?.on('state', (on) => this.emit('recording', on));
    this.channel.recorder?.on('error', (e) => logger.error(e.message, e.context));
  }

  /** Starts indexing (background) and, in continuous mode, recording. Returns at once. */
  start(): void {
    if (!this.stopped) this.channel.start();
  }

  hasArchive(): boolean {
    return this.o.settings.dirs.length > 0;
  }

  isRecording(): boolean {
    return this.channel.recorder?.recording ?? false;
  }

  /** RecordInfo items between two instants (Unix ms), times written in `timeZone`. */
  recordQuery(startMs: number, endMs: number, timeZone: string): Promise<RecordItem[]> {
    return archiveRecordQuery(() => ({ archive: this.channel.archive, name: this.o.name }), timeZone)(this.o.channelId, startMs, endMs);
  }

  /** A reader for a Playback/Download INVITE; GatewayError with sipStatus 400/404 when it cannot be served. */
  openPlayback(request: StreamRequest): PlaybackSource {
    return this.channel.openPlayback(request);
  }

  /** RecordCmd (GB28181-2016 §9.3.2): rejects when this channel has no recorder. */
  async recordCommand(action: 'start' | 'stop'): Promise<void> {
    const rec = this.channel.recorder;
    const ok = rec ? (action === 'start' ? rec.recordCommand() : rec.stopRecordCommand()) : false;
    if (!ok) throw new GatewayError('RECORD_NO_RECORDER', `channel ${this.o.channelId} has no recorder (set the recorder mode and a folder on its rtsp-source)`, { channelId: this.o.channelId });
  }

  /** Closes the open segment, stops indexing and leaves the feed pool. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.channel.stop();
    } finally {
      this.membership?.leave();
    }
  }
}

/** What an rtsp-source's recording properties give: recordings, none (no folder), or the problem that disabled them. */
export interface SourceRecordingSetup {
  recording?: SourceRecording;
  /** Short cause for the status and RecordCmd's refusal. */
  problem?: string;
  /** The line the node logs as an error. */
  error?: string;
}

/**
 * Reads the node's recording properties (relative folders from `userDir`) and opens its recordings;
 * `timeZone` is asked only when there is a folder.
 */
export function openSourceRecording(props: Record<string, unknown>, userDir: string, o: Omit<SourceRecordingOptions, 'settings' | 'timeZone'> & { timeZone: () => string }): SourceRecordingSetup {
  const settings = readSourceRecordingSettings(props, userDir);
  if (settings.problems.length) return { problem: settings.problems[0], error: `recordings disabled, invalid settings: ${settings.problems.join('; ')}` };
  if (!settings.dirs.length) return {};
  try {
    return { recording: new SourceRecording({ ...o, settings, timeZone: o.timeZone() }) };
  } catch (e) {
    const problem = (e as Error).message;
    return { problem, error: `recordings disabled: ${problem}` };
  }
}
