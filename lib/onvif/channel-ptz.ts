/**
 * PTZ for one GB28181 channel: its camera's ONVIF interface (OnvifCamera + PtzController) behind the
 * few calls the SIP side and the nodes need. DeviceControl events (GB28181-2016 §9.3) go in as lib/manscdp
 * decodes them; Catalog Info.PTZType (1 PTZ, 3 fixed; GB28181-2016 Annex A catalog item) and the
 * PresetQuery answer come out. A camera without PTZ is a fixed camera, not an error; a camera that
 * cannot be reached is `failed` with a reason, and every call still returns within its bound.
 */
import { EventEmitter } from 'node:events';
import { SourceConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { DeviceControlEvent } from '../manscdp/device-control';
import { OnvifCamera, OnvifCameraOptions, OnvifCameraStatus, onvifAddressFromRtsp } from './onvif-camera';
import { OnvifErrorCode, onvifProblemText } from './onvif-error';
import { PtzController, PtzOutcome } from './ptz-controller';
import { PtzRequest } from './ptz-request';

/** The camera's address and login as OnvifCamera takes them (its `name` is the camera's name, for logs). */
export interface ChannelPtzOptions extends Pick<OnvifCameraOptions, 'name' | 'hostname' | 'port' | 'path' | 'username' | 'password' | 'callTimeoutMs' | 'logger'> {
  /** The GB28181 channel ID (for logs; callers route DeviceControl events by it). */
  channelId: string;
  /** A move with no further command stops this long after the last one; default 1000 ms. */
  stopAfterMs?: number;
  /** Let HomePosition without a preset overwrite the camera's home position; default false. */
  allowSetHome?: boolean;
  /** While the camera is not connected, try again this often; default 30000 ms. */
  reconnectEveryMs?: number;
}

export type ChannelPtzState = 'connecting' | 'ptz' | 'fixed' | 'failed';

export interface ChannelPtzStatus {
  state: ChannelPtzState;
  /** Why it failed, readable by a user ("GetProfiles: the camera refused the ONVIF credentials …"). */
  reason?: string;
  /** The failure's cause as a code, for a short status text (see channelPtzStatusText). */
  code?: OnvifErrorCode;
}

export interface ChannelPreset {
  presetId: number;
  name: string;
}

/** PresetQuery must be answered within WVP's 4 s; stay clearly under it. */
const PRESET_QUERY_BOUND_MS = 3000;

export class ChannelPtz extends EventEmitter {
  readonly channelId: string;
  /** The controller underneath, for callers that want its events ('auto-stop', 'ptz-error', 'guard-return'). */
  readonly controller: PtzController;
  private readonly logger: Logger;
  private last: ChannelPtzStatus;
  private closed = false;

  constructor(o: ChannelPtzOptions) {
    super();
    this.channelId = o.channelId;
    this.logger = o.logger ?? silentLogger;
    const camera = new OnvifCamera({
      name: o.name,
      hostname: o.hostname,
      port: o.port,
      path: o.path,
      username: o.username,
      password: o.password,
      callTimeoutMs: o.callTimeoutMs,
      logger: this.logger,
    });
    this.controller = new PtzController(camera, {
      stopAfterMs: o.stopAfterMs,
      allowSetHome: o.allowSetHome,
      presetQueryTimeoutMs: PRESET_QUERY_BOUND_MS,
      reconnectEveryMs: o.reconnectEveryMs,
      logger: this.logger,
    });
    this.last = toChannelStatus(camera.status());
    this.controller.on('status', (_text: string, s: OnvifCameraStatus) => this.onCameraStatus(s));
    // Failures are logged by the controller; without a listener an 'error'-like event would be lost anyway.
    this.controller.on('ptz-error', () => undefined);
  }

  /** Connects in the background and keeps retrying while not connected; never throws. */
  start(): void {
    if (this.closed) return;
    this.controller.start();
  }

  /** GB28181 catalog Info.PTZType: 1 once ONVIF PTZ is found, else 3 (fixed). */
  ptzType(): 1 | 3 {
    return this.controller.ptzType();
  }

  status(): ChannelPtzStatus {
    return { ...this.last };
  }

  /**
   * Carries a DeviceControl event to the camera: `ptz` (PTZCmd) and `home-position` (guard position,
   * GB28181-2016 §A.2.3). Other types resolve undefined. Never rejects; resolves once the SOAP call is
   * done or refused (the SIP answer must not wait for it).
   */
  handleControl(ev: DeviceControlEvent): Promise<PtzOutcome | undefined> {
    if (ev.type === 'ptz') {
      const c = ev.command;
      if (c.kind === 'other') {
        return Promise.resolve({ result: 'ignored', reason: `PTZCmd instruction 0x${c.code.toString(16).padStart(2, '0')} not supported` });
      }
      // lib/manscdp's decoded PTZCmd has the PtzRequest shape (plus its address byte, unused here).
      const request: PtzRequest = c;
      return this.controller.handle(request);
    }
    if (ev.type === 'home-position') {
      return this.controller.handle({ kind: 'home-position', enabled: ev.enabled, resetTime: ev.resetTime, presetIndex: ev.presetIndex });
    }
    return Promise.resolve(undefined);
  }

  /**
   * The camera's presets with our numbers (1..255), for PresetQuery. Bounded under WVP's 4 s wait;
   * [] for a fixed or unreachable camera (the failure is logged by the controller).
   */
  presets(): Promise<ChannelPreset[]> {
    if (this.closed) return Promise.resolve([]);
    return this.controller.listPresets().then(
      (list) => list.map((e) => ({ presetId: e.id, name: e.name })).sort((a, b) => a.presetId - b.presetId),
      () => [],
    );
  }

  /** Stops a running move (bounded) and closes the camera; no status events afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.controller.close();
  }

  private onCameraStatus(s: OnvifCameraStatus): void {
    if (this.closed) return;
    const next = toChannelStatus(s);
    if (next.state === this.last.state && next.reason === this.last.reason) return;
    this.last = next;
    if (next.state === 'failed' || next.state === 'fixed' || next.state === 'ptz') {
      this.logger.debug(`PTZ status ${next.state}${next.reason ? `: ${next.reason}` : ''}`, { channel: this.channelId });
    }
    this.emit('status', this.status());
  }
}

function toChannelStatus(s: OnvifCameraStatus): ChannelPtzStatus {
  switch (s.state) {
    case 'ready':
      return { state: s.info?.ptz ? 'ptz' : 'fixed' };
    case 'failed':
      return { state: 'failed', reason: s.error?.message ?? s.text, code: s.error?.code };
    case 'closed':
      return { state: 'failed', reason: 'closed', code: 'ONVIF_CLOSED' };
    default:
      return { state: 'connecting' };
  }
}

/** Short text for a node status: "PTZ", "fixed", "ONVIF: wrong credentials", "ONVIF: connecting". */
export function channelPtzStatusText(s: ChannelPtzStatus): string {
  switch (s.state) {
    case 'ptz':
      return 'PTZ';
    case 'fixed':
      return 'fixed';
    case 'connecting':
      return 'ONVIF: connecting';
    case 'failed':
      return onvifProblemText(s.code);
  }
}

/**
 * The ChannelPtz options of a configured camera: the ONVIF host defaults to the RTSP URL's host, the
 * credentials to the RTSP ones (a separate ONVIF user name brings its own password). Undefined when
 * ONVIF is disabled for the camera, or no host is known (logged).
 */
export function channelPtzOptionsFor(source: SourceConfig, logger?: Logger): ChannelPtzOptions | undefined {
  const onvif = source.onvif;
  if (!onvif?.enabled) return undefined;
  const host = onvif.host?.trim() || onvifAddressFromRtsp(source.url)?.hostname;
  if (!host) {
    (logger ?? silentLogger).warn('ONVIF enabled but no host: neither onvif.host nor a host in the RTSP URL; treating the camera as fixed', { channel: source.channelId });
    return undefined;
  }
  const separate = onvif.username !== undefined && onvif.username !== '';
  return {
    channelId: source.channelId,
    name: source.name || source.channelId,
    hostname: host,
    port: onvif.port,
    path: onvif.path,
    username: separate ? onvif.username : source.username,
    password: separate ? onvif.password : source.password,
    stopAfterMs: onvif.stopAfterMs,
    allowSetHome: onvif.allowSetHome,
    logger,
  };
}
