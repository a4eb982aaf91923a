/**
 * The headless runner's PTZ side (issue #8): one ChannelPtz (the camera's ONVIF interface) per enabled
 * camera with ONVIF on, DeviceControl events routed to it by channel ID (the body's DeviceID,
 * GB28181-2016 §9.3), PresetQuery answered from it, and each camera's PTZType reported so the catalog
 * can follow it (Info.PTZType, GB28181-2016 Annex A.2.1: 3 fixed until ONVIF PTZ is found).
 * Connecting runs in the background: registration and live video never wait for a camera's ONVIF port.
 */
import { SourceConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { DeviceControlEvent } from '../manscdp/device-control';
import { ChannelPreset, ChannelPtz, ChannelPtzOptions, ChannelPtzStatus, channelPtzOptionsFor } from '../onvif/channel-ptz';
import { PtzOutcome } from '../onvif/ptz-controller';

export interface ChannelPtzRouterOptions {
  /** The gateway's own device ID: a PTZ command addressed to it has no camera to move. */
  deviceId: string;
  logger?: Logger;
  /** Called when a camera's PTZType changes (1 PTZ, 3 fixed). */
  onPtzType?: (channelId: string, ptzType: 1 | 3) => void;
  /** Overrides applied to every camera's options (tests shorten call bounds and retry periods). */
  overrides?: Partial<Pick<ChannelPtzOptions, 'callTimeoutMs' | 'reconnectEveryMs' | 'stopAfterMs'>>;
}

interface Entry {
  ptz: ChannelPtz;
  name: string;
  lastType: 1 | 3;
  lastStatus?: string;
}

export class ChannelPtzRouter {
  private readonly entries = new Map<string, Entry>();
  /** Every enabled camera's channel ID, to tell "ONVIF off" from "no such channel" in the log. */
  private readonly channels = new Set<string>();
  private readonly logger: Logger;
  private readonly opts: ChannelPtzRouterOptions;
  /** Targets already logged as having no camera, so a held arrow does not flood the log. */
  private readonly notedTargets = new Set<string>();
  private started = false;

  constructor(sources: SourceConfig[], options: ChannelPtzRouterOptions) {
    this.opts = options;
    this.logger = options.logger ?? silentLogger;
    for (const source of sources) {
      if (!source.enabled) continue;
      this.channels.add(source.channelId);
      const base = channelPtzOptionsFor(source, this.logger);
      if (!base) continue;
      const ptz = new ChannelPtz({ ...base, ...stripUndefined(options.overrides ?? {}) });
      const entry: Entry = { ptz, name: base.name, lastType: 3 };
      ptz.on('status', (s: ChannelPtzStatus) => this.onStatus(source.channelId, entry, s));
      this.entries.set(source.channelId, entry);
    }
  }

  /** Channels that have an ONVIF interface configured. */
  channelIds(): string[] {
    return [...this.entries.keys()];
  }

  /** Starts connecting every camera in the background; returns at once and never throws. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const { ptz } of this.entries.values()) ptz.start();
  }

  /** Info.PTZType of a channel: 1 once ONVIF PTZ is found, 3 (fixed) otherwise or without ONVIF. */
  ptzType(channelId: string): 1 | 3 {
    return this.entries.get(channelId)?.ptz.ptzType() ?? 3;
  }

  status(channelId: string): ChannelPtzStatus | undefined {
    return this.entries.get(channelId)?.ptz.status();
  }

  /**
   * Carries a DeviceControl event to its channel's camera. Only 'ptz' and 'home-position' concern PTZ;
   * others resolve undefined. A command for the device itself or a channel without ONVIF is logged and
   * dropped (the SIP 200 has already gone out). Never rejects.
   */
  handleControl(ev: DeviceControlEvent): Promise<PtzOutcome | undefined> {
    if (ev.type !== 'ptz' && ev.type !== 'home-position') return Promise.resolve(undefined);
    const entry = this.entries.get(ev.deviceId);
    if (!entry) {
      const why = ev.deviceId === this.opts.deviceId
        ? 'it is addressed to the device, not a channel'
        : this.channels.has(ev.deviceId) ? 'ONVIF is off for this camera (fixed)' : 'no camera has this channel ID';
      this.noteTarget(ev.deviceId, `PTZ command for ${ev.deviceId} dropped: ${why}`);
      return Promise.resolve(undefined);
    }
    return entry.ptz.handleControl(ev).then(
      (outcome) => {
        if (outcome) this.logger.debug(`PTZ ${ev.type} → ${outcome.result}`, { channel: ev.deviceId, camera: entry.name });
        return outcome;
      },
      (e: unknown) => {
        // ChannelPtz never rejects; guard anyway so a SIP event handler cannot see an unhandled rejection.
        this.logger.warn(`PTZ ${ev.type} failed: ${(e as Error).message}`, { channel: ev.deviceId, camera: entry.name });
        return undefined;
      },
    );
  }

  /** PresetQuery answer (bounded by ChannelPtz under WVP's 4 s); [] for a channel without ONVIF. */
  presets(channelId: string): Promise<ChannelPreset[]> {
    const entry = this.entries.get(channelId);
    if (!entry) {
      const why = this.channels.has(channelId) ? 'ONVIF is off for this camera' : 'no camera has this channel ID';
      this.noteTarget(`presets:${channelId}`, `PresetQuery for ${channelId}: ${why}; answering an empty list`);
      return Promise.resolve([]);
    }
    return entry.ptz.presets();
  }

  /** Stops running moves (bounded by each camera's call bound) and closes every camera. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.ptz.close().catch((err: unknown) => this.logger.warn(`PTZ close: ${(err as Error).message}`, { camera: e.name }))));
  }

  private onStatus(channelId: string, entry: Entry, s: ChannelPtzStatus): void {
    // One line per camera and state, so a user sees why a camera shows as fixed.
    const text = s.state === 'failed' ? `failed: ${s.reason ?? 'unknown'}` : s.state;
    if (text !== entry.lastStatus && s.state !== 'connecting') {
      const context = { channel: channelId, camera: entry.name };
      // The failure itself was warned by OnvifCamera; this line says what it means for the channel.
      if (s.state === 'failed') this.logger.info(`PTZ unavailable, listed as fixed until the camera answers: ${s.reason ?? 'unknown'}`, context);
      else this.logger.info(s.state === 'ptz' ? 'PTZ ready (ONVIF)' : 'no ONVIF PTZ: fixed camera', context);
    }
    entry.lastStatus = text;
    const type = entry.ptz.ptzType();
    if (type === entry.lastType) return;
    entry.lastType = type;
    this.opts.onPtzType?.(channelId, type);
  }

  private noteTarget(key: string, message: string): void {
    if (this.notedTargets.has(key)) {
      this.logger.debug(message);
      return;
    }
    this.notedTargets.add(key);
    this.logger.info(message);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
