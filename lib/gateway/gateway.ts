/**
 * The gateway as the headless runner runs it: one GB28181 device (signalling) joined directly
 * to one media service (RTSP in, PS/RTP out), with a channel per configured camera. The
 * Node-RED nodes join the same two halves through messages instead; the joining rules that
 * both need (channel descriptors from cameras, source lookup) live in `channel-directory.ts`.
 */
import { EventEmitter } from 'node:events';
import { GatewayConfig } from '../config/gateway-config';
import { GbDevice } from '../device/gb-device';
import { Logger, silentLogger } from '../logger';
import { MediaService } from '../media/media-service';
import { isWildcard, localAddressToward } from '../net/route-address';
import { ChannelDirectory } from './channel-directory';

export interface GatewayOptions {
  logger?: Logger;
  /** Probe each camera at start (ffprobe) so the catalog carries codec and status. Default true. */
  probeOnStart?: boolean;
}

export class Gateway extends EventEmitter {
  readonly config: GatewayConfig;
  private readonly logger: Logger;
  private readonly directory: ChannelDirectory;
  private device?: GbDevice;
  private media?: MediaService;
  private readonly probeOnStart: boolean;

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    super();
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.probeOnStart = options.probeOnStart ?? true;
    this.directory = new ChannelDirectory(config.sources, { ffmpegPath: config.ffmpegPath, logger: this.logger });
  }

  get gbDevice(): GbDevice | undefined {
    return this.device;
  }

  get mediaService(): MediaService | undefined {
    return this.media;
  }

  async start(): Promise<void> {
    const local = { ...this.config.local };
    // Bound to every interface: announce the address the platform's packets will arrive on.
    if (!local.contactIp && isWildcard(local.sipIp)) local.contactIp = await localAddressToward(this.config.platform.host, this.config.platform.port);
    const announced = local.contactIp ?? local.sipIp;
    if (isWildcard(local.mediaIp)) local.mediaIp = announced;

    this.media = new MediaService({
      localIp: local.mediaIp,
      portRange: local.mediaPortRange,
      logger: this.logger,
      ffmpegPath: this.config.ffmpegPath,
      resolveSource: (channelId, streamNumber) => this.directory.mediaSource(channelId, streamNumber),
    });
    this.device = new GbDevice({
      device: this.config.device,
      platform: this.config.platform,
      local,
      catalogBatchSize: this.config.catalogBatchSize,
      logger: this.logger,
      streamHandler: this.media,
    });
    this.device.setChannels(this.directory.descriptors());

    const device = this.device;
    this.media.on('session-ended', (callId: string, reason: string) => {
      device.endSession(callId, reason).catch((e: unknown) => this.logger.warn(`BYE for ${callId} failed: ${(e as Error).message}`, { callId }));
    });
    this.media.on('source-state', (key: string, state: string, reason?: string) => {
      const changed = this.directory.setSourceState(key, state === 'online', reason);
      for (const ch of changed) device.upsertChannel(ch);
      this.emit('source-state', key, state, reason);
    });
    for (const ev of ['registering', 'registered', 'failed', 'unregistered'] as const) {
      device.on(ev, (...args: unknown[]) => this.emit(ev, ...args));
    }
    device.on('control', (event: unknown) => this.emit('control', event));

    await device.start();
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
  }
}
