/**
 * The gateway as the headless runner runs it: one GB28181 device (signalling) joined directly
 * to one media service (RTSP in, PS/RTP out), with a channel per configured camera. The
 * Node-RED nodes join the same two halves through messages instead; the joining rules that
 * both need (channel descriptors from cameras, source lookup) live in `channel-directory.ts`.
 */
import { EventEmitter } from 'node:events';
import { GatewayConfig } from '../config/gateway-config';
import { DeviceControlEvent, GbDevice } from '../device/gb-device';
import { Logger, silentLogger } from '../logger';
import { MediaService } from '../media/media-service';
import { FfProbe } from '../media/ff-probe';
import { locateFfTool } from '../media/ffmpeg-path';
import { MansRtspCommand } from '../device/mansrtsp-command';
import { resolveAnnouncedAddresses } from '../net/route-address';
import { ChannelDirectory, sourceKey } from './channel-directory';
import { keptDefect, offlineCauseOfFeedLoss } from './offline-cause';
import { CameraLivenessWatch } from '../media/camera-liveness-watch';
import { ChannelRecorders } from './channel-recorders';
import { ChannelPtzRouter, ChannelPtzRouterOptions } from './channel-ptz-router';
import { ChannelDescriptor } from '../session/stream-contract';

export interface GatewayOptions {
  logger?: Logger;
  /** Probe each camera at start (ffprobe) so the catalog carries codec and status. Default true. */
  probeOnStart?: boolean;
  /** ONVIF bounds for every camera (tests shorten them); defaults from the camera's `onvif` config. */
  ptzOverrides?: ChannelPtzRouterOptions['overrides'];
  /**
   * RTSP OPTIONS check of every camera nobody pulls, so an idle camera that dies turns its channel OFF
   * (Catalog NOTIFY, video-loss alarm) and back ON (issue #8). Default 30000 ms; 0 turns it off.
   */
  livenessIntervalMs?: number;
}

export class Gateway extends EventEmitter {
  readonly config: GatewayConfig;
  private readonly logger: Logger;
  private readonly directory: ChannelDirectory;
  private device?: GbDevice;
  private media?: MediaService;
  private readonly probeOnStart: boolean;
  /** Archives, recorders and playback readers of the channels that have record folders (issue #7). */
  private recorders?: ChannelRecorders;
  /** ONVIF PTZ per camera (issue #8): DeviceControl, PresetQuery, catalog PTZType. */
  private ptz?: ChannelPtzRouter;
  private readonly ptzOverrides: GatewayOptions['ptzOverrides'];
  private readonly livenessIntervalMs: number;
  private liveness?: CameraLivenessWatch;
  /** Channels the liveness watch took OFF: an OPTIONS answer is enough to bring those back. */
  private readonly offByLiveness = new Set<string>();
  private readonly confirming = new Set<string>();
  /** The latest RTSP check per channel whose main feed went offline: an older or superseded one is ignored. */
  private readonly feedLossChecks = new Map<string, object>();

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    super();
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.probeOnStart = options.probeOnStart ?? true;
    this.directory = new ChannelDirectory(config.sources, {
      logger: this.logger,
      prober: (url, rtspTransport) => {
        const ffprobe = locateFfTool('ffprobe', { logger: this.logger });
        return new FfProbe({ ffprobe, rtspTransport }).probe(url);
      },
    });
    this.ptzOverrides = options.ptzOverrides;
    this.livenessIntervalMs = options.livenessIntervalMs ?? 30_000;
  }

  get gbDevice(): GbDevice | undefined {
    return this.device;
  }

  get mediaService(): MediaService | undefined {
    return this.media;
  }

  /** The channels' recordings (archives, recorders); undefined before start(). */
  get recordings(): ChannelRecorders | undefined {
    return this.recorders;
  }

  async start(): Promise<void> {
    // Bound to every interface: announce the address the platform's packets will arrive on.
    const local = await resolveAnnouncedAddresses(this.config.local, this.config.platform.host, this.config.platform.port);

    const ffmpeg = locateFfTool('ffmpeg', { configuredPath: this.config.ffmpegPath, logger: this.logger });
    const ffprobe = locateFfTool('ffprobe', { logger: this.logger });
    const ptz = new ChannelPtzRouter(this.config.sources, {
      deviceId: this.config.device.id,
      logger: this.logger,
      overrides: this.ptzOverrides,
      onPtzType: (channelId, ptzType) => {
        const changed = this.directory.setPtzType(channelId, ptzType);
        if (changed) this.device?.upsertChannel(changed);
      },
    });
    this.ptz = ptz;

    this.media = new MediaService({
      localIp: local.mediaIp,
      openRecording: (request) => this.recorders?.openPlayback(request),
      portRange: local.mediaPortRange,
      logger: this.logger,
      ffmpegPath: ffmpeg.path,
      resolveSource: (channelId, streamNumber) => this.directory.mediaSource(channelId, streamNumber),
    });
    const media = this.media;
    const recorders = new ChannelRecorders(this.config.sources, {
      deviceId: this.config.device.id, timeZone: this.config.platform.timeZone,
      ffprobePath: ffprobe.path, ffmpegPath: ffmpeg.path, cacheDir: this.config.recordCacheDir, logger: this.logger,
      // The recorder rides the live view's camera pull: one RTSP connection per camera.
      feedLease: (channelId) => media.feedLease(channelId),
    });
    this.recorders = recorders;
    recorders.on('recording', (channelId, on) => this.emit('recording', channelId, on));
    // Indexing runs in the background: registration never waits for a large archive.
    recorders.start();
    this.device = new GbDevice({
      device: this.config.device,
      platform: this.config.platform,
      alarmsAsMessage: this.config.platform.alarmsAsMessage,
      local,
      catalogBatchSize: this.config.catalogBatchSize,
      logger: this.logger,
      streamHandler: this.media,
      recordQuery: recorders.recordQuery(),
      recordCommand: (channelId, action) => recorders.recordCommand(channelId, action),
      recording: (channelId) => recorders.isRecording(channelId),
      presetQuery: (channelId) => ptz.presets(channelId),
    });
    this.device.setChannels(this.directory.descriptors());

    const device = this.device;
    // Main-stream feeds the shared ingest runs: while it pulls a camera, its state is the camera's state.
    const activeFeeds = new Set<string>();
    const liveness = this.livenessIntervalMs > 0
      ? new CameraLivenessWatch({ intervalMs: this.livenessIntervalMs, logger: this.logger, isIngestActive: (channelId) => activeFeeds.has(sourceKey(channelId, 0)) })
      : undefined;
    this.liveness = liveness;
    this.media.on('session-ended', (callId: string, reason: string) => {
      device.endSession(callId, reason).catch((e: unknown) => this.logger.warn(`BYE for ${callId} failed: ${(e as Error).message}`, { callId }));
    });
    // A status the ingest or a probe established: the liveness watch learns it and forgets its own verdict.
    const applyFeedChanges = (changed: ChannelDescriptor[]): void => {
      for (const ch of changed) {
        this.offByLiveness.delete(ch.id);
        liveness?.noteState(ch.id, ch.online);
        device.upsertChannel(ch);
      }
    };
    this.media.on('source-state', (key: string, state: string, reason?: string) => {
      // An online→offline upsert makes GbDevice send Catalog OFF/VLOST and the video-loss alarm (issue #8).
      if (state === 'offline' && reason === 'stopped') activeFeeds.delete(key);
      else activeFeeds.add(key);
      const channelId = key.split('/')[0];
      const mainLost = state === 'offline' && reason !== 'stopped' && key.endsWith('/main');
      if (state === 'online' && key.endsWith('/main')) this.feedLossChecks.delete(channelId);
      if (mainLost) {
        // The ingest's verdict supersedes the watch's: bringing the channel back then takes a probe.
        this.offByLiveness.delete(channelId);
        // Before the catalog hears of it: a camera that still answers RTSP lost its video (VLOST), one that does not is OFF.
        const check = {};
        this.feedLossChecks.set(channelId, check);
        const spec = this.directory.mediaSource(channelId, 0);
        void (spec ? offlineCauseOfFeedLoss(spec.url) : Promise.resolve('unreachable' as const)).then((cause) => {
          if (this.feedLossChecks.get(channelId) !== check || this.device !== device) return;
          this.feedLossChecks.delete(channelId);
          applyFeedChanges(this.directory.applyFeedState(key, state, reason, keptDefect(cause, this.directory.descriptor(channelId))));
        });
      } else applyFeedChanges(this.directory.applyFeedState(key, state, reason));
      this.emit('source-state', key, state, reason);
    });
    for (const ev of ['registering', 'registered', 'failed', 'unregistered'] as const) {
      device.on(ev, (...args: unknown[]) => this.emit(ev, ...args));
    }
    device.on('control', (event: DeviceControlEvent) => {
      this.emit('control', event);
      void ptz.handleControl(event);
    });
    device.on('playback-control', (callId: string, cmd: MansRtspCommand) => recorders.control(callId, cmd));
    device.on('bye', (callId: string) => recorders.forget(callId));
    // End of a recording range: MediaStatus 121 in the INVITE's dialog (notes §8.5).
    this.media.on('playback-ended', (callId: string) => {
      device.sendMediaStatus(callId, 121).catch((e: unknown) => this.logger.warn(`MediaStatus for ${callId} failed: ${(e as Error).message}`, { callId }));
    });

    if (liveness) {
      liveness.on('change', (channelId, online, reason) => this.onLivenessChange(liveness, channelId, online, reason));
      for (const ch of this.directory.descriptors()) {
        const spec = this.directory.mediaSource(ch.id, 0);
        if (spec) liveness.watch(ch.id, spec.url, ch.online);
      }
    }

    await device.start();
    // ONVIF connects in the background; PTZType updates reach the catalog through onPtzType.
    ptz.start();
    if (this.probeOnStart) {
      // In the background: registration never waits for a slow or absent camera.
      void this.directory.probeAll().then(applyFeedChanges);
    }
  }

  private onLivenessChange(liveness: CameraLivenessWatch, channelId: string, online: boolean, reason: string | undefined): void {
    const device = this.device;
    if (!device || this.liveness !== liveness) return;
    if (!online) {
      // Same path as the ingest's state: online→offline makes GbDevice send Catalog OFF and the video-loss alarm.
      const changed = this.directory.setSourceState(sourceKey(channelId, 0), false, `no RTSP answer (${reason ?? 'unknown'})`, 'unreachable');
      for (const ch of changed) {
        this.offByLiveness.add(ch.id);
        device.upsertChannel(ch);
      }
      return;
    }
    if (this.offByLiveness.delete(channelId)) {
      for (const ch of this.directory.setSourceState(sourceKey(channelId, 0), true)) device.upsertChannel(ch);
      return;
    }
    // OFF for another reason (a failed probe, the ingest: wrong password, unplayable): the RTSP server
    // answering proves little, so ffprobe decides; it also fills in the codec of a camera absent at start.
    if (this.confirming.has(channelId)) return;
    this.confirming.add(channelId);
    void this.directory.probeChannel(channelId).then((ch) => {
      this.confirming.delete(channelId);
      if (!ch || this.liveness !== liveness) return;
      if (!ch.online) {
        liveness.noteState(channelId, false);
        return;
      }
      this.logger.info(`channel ${channelId} online (probed after its camera answered again)`, { channelId });
      this.device?.upsertChannel(ch);
    });
  }

  async stop(): Promise<void> {
    this.liveness?.stop();
    this.liveness = undefined;
    this.offByLiveness.clear();
    this.feedLossChecks.clear();
    const device = this.device;
    const media = this.media;
    this.device = undefined;
    this.media = undefined;
    await device?.stop().catch((e: unknown) => this.logger.warn(`device stop: ${(e as Error).message}`));
    await media?.close().catch((e: unknown) => this.logger.warn(`media stop: ${(e as Error).message}`));
    const ptz = this.ptz;
    this.ptz = undefined;
    await ptz?.close();
    const recorders = this.recorders;
    this.recorders = undefined;
    await recorders?.stop();
  }
}
