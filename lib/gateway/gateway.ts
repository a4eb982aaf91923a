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
import { ChannelDirectory } from './channel-directory';
import { ChannelRecorders } from './channel-recorders';
import { ChannelPtzRouter, ChannelPtzRouterOptions } from './channel-ptz-router';

export interface GatewayOptions {
  logger?: Logger;
  /** Probe each camera at start (ffprobe) so the catalog carries codec and status. Default true. */
  probeOnStart?: boolean;
  /** ONVIF bounds for every camera (tests shorten them); defaults from the camera's `onvif` config. */
  ptzOverrides?: ChannelPtzRouterOptions['overrides'];
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
    this.media.on('session-ended', (callId: string, reason: string) => {
      device.endSession(callId, reason).catch((e: unknown) => this.logger.warn(`BYE for ${callId} failed: ${(e as Error).message}`, { callId }));
    });
    this.media.on('source-state', (key: string, state: string, reason?: string) => {
      // An online→offline upsert makes GbDevice send Catalog OFF and the video-loss alarm (issue #8).
      const changed = this.directory.applyFeedState(key, state, reason);
      for (const ch of changed) device.upsertChannel(ch);
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

    await device.start();
    // ONVIF connects in the background; PTZType updates reach the catalog through onPtzType.
    ptz.start();
    if (this.probeOnStart) {
      // In the background: registration never waits for a slow or absent camera.
      void this.directory.probeAll().then((updated) => {
        for (const ch of updated) device.upsertChannel(ch);
      });
    }
  }

  async stop(): Promise<void> {
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
