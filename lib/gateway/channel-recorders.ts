/**
 * The recordings side of the headless runner (issue #7): one ChannelRecording per camera that has
 * record folders, built from SourceConfig.recordDirs / SourceConfig.record, with the recorder fed
 * by a lease on the media side's shared camera pull (one RTSP connection for live view and
 * recorder). Answers RecordInfo, opens Playback/Download readers and routes their MANSRTSP INFO,
 * and carries out RecordCmd (GB28181-2016 §9.3.2, Annex A.2.3).
 *
 * A camera with `record.mode` other than off and no `record_dirs` gets no recorder and one
 * warning (see recorderConfigWarnings): the gateway never picks a folder to fill on its own.
 */
import { EventEmitter } from 'node:events';
import { SourceConfig } from '../config/gateway-config';
import { GatewayError } from '../errors';
import { Logger, silentLogger } from '../logger';
import { RecordQuery } from '../manscdp/record-info-response';
import { ChannelRecording, ChannelRecordingConfig, channelsRecordQuery } from '../record/channel-recording';
import { PlaybackSource } from '../record/playback-source';
import { PlaybackControl, applyPlaybackControl } from '../record/playback-request';
import { RecordFolderSpec } from '../record/record-archive';
import { FeedLease, RecordRetention } from '../record/recorder';
import { StreamRequest } from '../session/stream-contract';

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;

export type RecordAction = 'start' | 'stop';

export interface ChannelRecordersOptions {
  /** The device's own ID: a RecordCmd addressed to it applies to every channel that has a recorder. */
  deviceId: string;
  /** PlatformConfig.timeZone (file names and RecordInfo times). */
  timeZone: string;
  ffprobePath: string;
  ffmpegPath: string;
  /** GatewayConfig.recordCacheDir. */
  cacheDir?: string;
  /** The channel's shared camera pull (MediaService.feedLease). */
  feedLease: (channelId: string) => FeedLease;
  logger?: Logger;
}

export interface ChannelRecordersEvents {
  /** A channel's recorder started or stopped writing. */
  recording: [channelId: string, on: boolean];
}

/** Problems of the recorder settings that leave a camera without the recorder it asks for (one line each). */
export function recorderConfigWarnings(sources: readonly SourceConfig[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    if (!s.enabled || s.record.mode === 'off') continue;
    if (s.recordDirs.length === 0) {
      out.push(`channel ${s.channelId} (${s.name}): record.mode is "${s.record.mode}" but record_dirs is empty; the recorder is off until a folder is set`);
    } else if (s.record.nameMarks === 'end') {
      out.push(`channel ${s.channelId} (${s.name}): record.mode is "${s.record.mode}" but record.name_marks is "end"; the recorder names files by their start, so it is off for this folder`);
    }
  }
  return out;
}

/** ChannelRecording settings of one camera, or undefined when it has no record folder. */
export function channelRecordingConfig(source: SourceConfig, timeZone: string, cacheDir?: string): ChannelRecordingConfig | undefined {
  if (!source.enabled || source.recordDirs.length === 0) return undefined;
  const r = source.record;
  const recordDirs: RecordFolderSpec[] = source.recordDirs.map((dir) => ({ dir, pattern: r.pattern, nameMarks: r.nameMarks }));
  const retention: RecordRetention = {
    ...(r.maxAgeDays !== undefined ? { maxAgeMs: r.maxAgeDays * DAY_MS } : {}),
    ...(r.maxSizeMb !== undefined ? { maxBytes: Math.round(r.maxSizeMb * MIB) } : {}),
  };
  return {
    channelId: source.channelId,
    name: source.name,
    recordDirs,
    timeZone,
    ...(cacheDir ? { cacheDir } : {}),
    recorder: r.mode === 'off' ? undefined : { mode: r.mode, segmentSeconds: r.segmentSeconds, retention },
  };
}

export class ChannelRecorders extends EventEmitter<ChannelRecordersEvents> {
  private readonly logger: Logger;
  private readonly channels = new Map<string, ChannelRecording>();
  /** Playback/Download readers by Call-ID, so MANSRTSP INFO reaches them. */
  private readonly playbacks = new Map<string, PlaybackSource>();

  constructor(sources: readonly SourceConfig[], private readonly options: ChannelRecordersOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
    for (const warning of recorderConfigWarnings(sources)) this.logger.warn(warning);
    for (const source of sources) {
      const config = channelRecordingConfig(source, options.timeZone, options.cacheDir);
      if (!config) continue;
      const rec = new ChannelRecording(config, {
        ffprobePath: options.ffprobePath, ffmpegPath: options.ffmpegPath, logger: this.logger,
        feedLease: config.recorder ? options.feedLease(source.channelId) : undefined,
      });
      rec.recorder?.on('state', (on) => this.emit('recording', source.channelId, on));
      // Logged by the recorder; a listener keeps a write failure from becoming an uncaught 'error'.
      rec.recorder?.on('error', () => undefined);
      this.channels.set(source.channelId, rec);
    }
  }

  /** The channel's recordings (archive and recorder), for status and tests. */
  channel(channelId: string): ChannelRecording | undefined {
    return this.channels.get(channelId);
  }

  /** Starts indexing every archive in the background and the continuous recorders; returns at once. */
  start(): void {
    for (const rec of this.channels.values()) rec.start();
  }

  async stop(): Promise<void> {
    for (const p of this.playbacks.values()) p.stop();
    this.playbacks.clear();
    await Promise.all([...this.channels.values()].map((r) => r.stop().catch((e: unknown) => {
      this.logger.warn(`recordings of ${r.config.channelId} did not stop cleanly: ${(e as Error).message}`, { channelId: r.config.channelId });
    })));
  }

  /** GbDevice's `recordQuery` (RecordInfo). */
  recordQuery(): RecordQuery {
    return channelsRecordQuery(this.channels, this.options.timeZone);
  }

  /** MediaService's `openRecording`: undefined for a channel without archive (→ 404); throws GatewayError with sipStatus. */
  openPlayback(request: StreamRequest): PlaybackSource | undefined {
    const rec = this.channels.get(request.channelId);
    if (!rec) return undefined;
    const source = rec.openPlayback(request);
    this.playbacks.set(request.callId, source);
    source.once('end', () => {
      if (this.playbacks.get(request.callId) === source) this.playbacks.delete(request.callId);
    });
    return source;
  }

  /** MANSRTSP INFO of a playback call (notes §8.4); false when the call has no reader. */
  control(callId: string, cmd: PlaybackControl): boolean {
    const source = this.playbacks.get(callId);
    if (!source) return false;
    applyPlaybackControl(source, cmd);
    return true;
  }

  /** The call ended (BYE): forget its reader (MediaService stops it). */
  forget(callId: string): void {
    this.playbacks.delete(callId);
  }

  /**
   * RecordCmd Record ('start') / StopRecord ('stop') for a channel, or for every recorder when
   * addressed to the device. Rejects with a GatewayError when there is no recorder to command.
   */
  async recordCommand(targetId: string, action: RecordAction): Promise<void> {
    const targets = targetId === this.options.deviceId
      ? [...this.channels.values()].filter((c) => c.recorder)
      : [this.channels.get(targetId)].filter((c): c is ChannelRecording => c !== undefined);
    const ctx = { channelId: targetId, action };
    if (targets.length === 0 && targetId !== this.options.deviceId && !this.channels.has(targetId)) {
      throw new GatewayError('RECORD_NO_RECORDER', `channel ${targetId} has no recorder: it is not a camera of this gateway or has no record_dirs`, ctx);
    }
    const recorders = targets.map((c) => c.recorder).filter((r) => r !== undefined);
    if (recorders.length === 0) {
      throw new GatewayError('RECORD_NO_RECORDER', targetId === this.options.deviceId
        ? 'no channel of this device has a recorder (record.mode is off everywhere)'
        : `channel ${targetId} has no recorder: record.mode is off`, ctx);
    }
    for (const r of recorders) {
      const done = action === 'start' ? r.recordCommand() : r.stopRecordCommand();
      if (!done) throw new GatewayError('RECORD_NO_RECORDER', `channel ${targetId}: the recorder is off`, ctx);
    }
    this.logger.info(`RecordCmd ${action === 'start' ? 'Record' : 'StopRecord'} done`, ctx);
  }

  /** DeviceStatus `Record`: the channel's recorder is writing (for the device ID: any channel's). */
  isRecording(targetId: string): boolean {
    if (targetId === this.options.deviceId) return [...this.channels.values()].some((c) => c.recorder?.recording === true);
    return this.channels.get(targetId)?.recorder?.recording === true;
  }
}
