/**
 * The PTZ side of an rtsp-source node: its ONVIF settings, one ChannelPtz, the PTZType it puts in the
 * channel message, the status suffix ("PTZ", "ONVIF: wrong credentials"), and the `control` messages
 * a gb28181-device sends out of output 2 (a DeviceControlEvent as payload; GB28181-2016 §9.3).
 * No Node-RED import: the node hands in its properties and credentials.
 */
import { EventEmitter } from 'node:events';
import { DEFAULTS, SourceOnvifConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { DeviceControlEvent } from '../manscdp/device-control';
import { decodePtzCommand, PtzCommand, PtzCommandError } from '../manscdp/ptz-command';
import { ChannelPreset, ChannelPtz, channelPtzOptionsFor, ChannelPtzStatus } from '../onvif/channel-ptz';
import { OnvifErrorCode, onvifProblemText } from '../onvif/onvif-error';
import { PtzOutcome } from '../onvif/ptz-controller';
import { checkPtzRequest } from '../onvif/ptz-request';
import { isRecord } from './flow-messages';

/** Topics a gb28181-device sends out of output 2 that an rtsp-source wired there does not act on. */
export const DEVICE_EVENT_TOPICS: readonly string[] = ['registration', 'channel', 'playback-control', 'alarm', 'alarm-reset', 'guard', 'subscription'];

export interface SourceOnvifCredentials {
  onvifUsername?: string;
  onvifPassword?: string;
}

function text(props: Record<string, unknown>, key: string): string {
  const v = props[key];
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}

function flag(props: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = props[key];
  if (v === undefined || v === null || v === '') return fallback;
  return v === true || v === 'true' || v === 1 || v === '1';
}

/**
 * ONVIF settings of an rtsp-source (properties onvifEnabled, onvifHost, onvifPort, onvifPath,
 * stopAfter (ms), allowSetHome; credentials onvifUsername/onvifPassword). A node saved before these
 * properties existed has no `onvifEnabled`: it stays without ONVIF until the user turns it on, so a
 * deployed flow does not start talking to port 80 of its cameras after an upgrade.
 */
export function readSourceOnvifSettings(props: Record<string, unknown>, creds: SourceOnvifCredentials): { onvif: SourceOnvifConfig; problems: string[] } {
  const problems: string[] = [];
  const d = DEFAULTS.onvif;
  const enabled = flag(props, 'onvifEnabled', false);
  const host = text(props, 'onvifHost');
  if (host && !/^[A-Za-z0-9.:_[\]-]+$/.test(host)) problems.push(`ONVIF host "${host}" is not a host name or IP address`);
  const portText = text(props, 'onvifPort');
  const port = portText === '' ? d.port : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`ONVIF port must be a whole number from 1 to 65535 (got "${portText}")`);
  const path = text(props, 'onvifPath');
  if (path && !path.startsWith('/')) problems.push(`ONVIF path must start with / (got "${path}")`);
  const stopText = text(props, 'stopAfter');
  const stopAfterMs = stopText === '' ? d.stopAfterMs : Number(stopText);
  if (!Number.isInteger(stopAfterMs) || stopAfterMs < 100 || stopAfterMs > 60000) problems.push(`stop after must be a whole number of ms from 100 to 60000 (got "${stopText}")`);
  const username = creds.onvifUsername?.trim();
  return {
    onvif: {
      enabled: enabled && problems.length === 0,
      ...(host ? { host: host.replace(/^\[|\]$/g, '') } : {}),
      port: problems.length ? d.port : port,
      ...(path ? { path } : {}),
      ...(username ? { username, password: creds.onvifPassword ?? '' } : {}),
      stopAfterMs: Number.isInteger(stopAfterMs) && stopAfterMs >= 100 && stopAfterMs <= 60000 ? stopAfterMs : d.stopAfterMs,
      allowSetHome: flag(props, 'allowSetHome', d.allowSetHome),
    },
    problems,
  };
}

export type ReadControl =
  /** A PTZ or HomePosition event, checked. */
  | { kind: 'ptz-event'; event: DeviceControlEvent }
  /** Another DeviceControl type (record, guard, teleboot…): not this node's business. */
  | { kind: 'other-control'; deviceId: string; type: string }
  | { kind: 'invalid'; problem: string };

const OTHER_CONTROL_TYPES = ['teleboot', 'record', 'guard', 'alarm-reset', 'keyframe', 'drag-zoom'];

/**
 * A `control` message payload (DeviceControlEvent as gb28181-device sends it, or hand-built by a flow)
 * checked back into a typed event. For `ptz`, `command` (decoded PTZCmd) or `raw` (the 16 hex digits)
 * is enough.
 */
export function readControlEvent(payload: unknown): ReadControl {
  if (!isRecord(payload)) return { kind: 'invalid', problem: 'msg.payload must be a DeviceControl event object' };
  const deviceId = typeof payload.deviceId === 'string' ? payload.deviceId : '';
  if (!/^\d{20}$/.test(deviceId)) return { kind: 'invalid', problem: 'msg.payload.deviceId must be the 20-digit channel ID' };
  const sn = typeof payload.sn === 'string' || typeof payload.sn === 'number' ? String(payload.sn) : '0';
  if (typeof payload.type === 'string' && OTHER_CONTROL_TYPES.includes(payload.type)) return { kind: 'other-control', deviceId, type: payload.type };
  switch (payload.type) {
    case 'ptz': {
      const raw = typeof payload.raw === 'string' ? payload.raw : undefined;
      let command: PtzCommand | undefined;
      if (isRecord(payload.command)) {
        const c = payload.command;
        const address = typeof c.address === 'number' ? c.address : 0;
        if (c.kind === 'other') {
          const code = typeof c.code === 'number' ? c.code : 0;
          return { kind: 'ptz-event', event: { type: 'ptz', deviceId, sn, raw: raw ?? '', command: { kind: 'other', address, code, data: [0, 0, 0] } } };
        }
        const checked = checkPtzRequest(c);
        if (!checked.ok) return { kind: 'invalid', problem: `msg.payload.command: ${checked.reason}` };
        const r = checked.request;
        if (r.kind === 'home' || r.kind === 'home-position') return { kind: 'invalid', problem: 'msg.payload.command: a home request travels as type "home-position"' };
        command = { ...r, address };
      } else if (raw !== undefined) {
        try {
          command = decodePtzCommand(raw);
        } catch (e) {
          if (e instanceof PtzCommandError) return { kind: 'invalid', problem: `msg.payload.raw: ${e.message}` };
          throw e;
        }
      }
      if (!command) return { kind: 'invalid', problem: 'a ptz event needs msg.payload.command or msg.payload.raw (16 hex digits)' };
      return { kind: 'ptz-event', event: { type: 'ptz', deviceId, sn, raw: raw ?? '', command } };
    }
    case 'home-position': {
      if (typeof payload.enabled !== 'boolean') return { kind: 'invalid', problem: 'msg.payload.enabled must be true or false' };
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      return { kind: 'ptz-event', event: { type: 'home-position', deviceId, sn, enabled: payload.enabled, resetTime: num(payload.resetTime), presetIndex: num(payload.presetIndex) } };
    }
    default:
      return { kind: 'invalid', problem: `msg.payload.type must be a DeviceControl type such as "ptz" or "home-position" (got ${JSON.stringify(payload.type)})` };
  }
}

export interface SourcePtzOptions {
  channelId: string;
  name: string;
  /** RTSP URL without credentials: its host is the default ONVIF host. */
  url: string;
  rtspUsername?: string;
  rtspPassword?: string;
  onvif: SourceOnvifConfig;
  /** PTZType chosen in the editor, used while ONVIF is off or has not answered. */
  manualPtzType: number;
  logger?: Logger;
  /** Bound of one SOAP call (tests shorten it). */
  callTimeoutMs?: number;
}

export type ControlResult = { handled: false; why: 'other channel' | 'not ptz' } | { handled: true; outcome: PtzOutcome };

/** Status suffix of an rtsp-source: catalogue key under rtsp-source.status and English text. */
export interface PtzStatusNote {
  key: string;
  fallback: string;
  /** ONVIF failed: the node shows the note but keeps the live-video colour. */
  failed: boolean;
}

/** Catalogue key (rtsp-source.status.*) of the ONVIF causes a user can act on. */
const ONVIF_PROBLEM_KEY: Partial<Record<OnvifErrorCode, string>> = {
  ONVIF_AUTH: 'onvifAuth',
  ONVIF_REFUSED: 'onvifRefused',
  ONVIF_TIMEOUT: 'onvifTimeout',
  ONVIF_UNREACHABLE: 'onvifUnreachable',
  ONVIF_BAD_RESPONSE: 'onvifNotOnvif',
};

/**
 * Events: 'change'() when the status note or the PTZType changed.
 */
export class SourcePtz extends EventEmitter {
  readonly channelId: string;
  private readonly ptz: ChannelPtz | undefined;
  private readonly manualPtzType: number;
  private lastType: number;
  private lastNote: string;

  constructor(o: SourcePtzOptions) {
    super();
    this.channelId = o.channelId;
    this.manualPtzType = [1, 2, 3, 4].includes(o.manualPtzType) ? o.manualPtzType : 3;
    const logger = o.logger ?? silentLogger;
    const options = channelPtzOptionsFor(
      { channelId: o.channelId, name: o.name, url: o.url, username: o.rtspUsername, password: o.rtspPassword, rtspTransport: 'tcp', enabled: true, recordDirs: [], record: { ...DEFAULTS.record }, onvif: o.onvif },
      logger,
    );
    this.ptz = options ? new ChannelPtz({ ...options, ...(o.callTimeoutMs ? { callTimeoutMs: o.callTimeoutMs } : {}) }) : undefined;
    this.lastType = this.ptzType();
    this.lastNote = JSON.stringify(this.statusNote());
    this.ptz?.on('status', () => {
      const type = this.ptzType();
      const note = JSON.stringify(this.statusNote());
      if (type === this.lastType && note === this.lastNote) return;
      this.lastType = type;
      this.lastNote = note;
      this.emit('change');
    });
  }

  get enabled(): boolean {
    return this.ptz !== undefined;
  }

  start(): void {
    this.ptz?.start();
  }

  status(): ChannelPtzStatus | undefined {
    return this.ptz?.status();
  }

  /**
   * Catalog Info.PTZType: what ONVIF found once it answered (1 PTZ, or the editor's 2 half-dome for a
   * PTZ camera; 3 fixed), else the editor's choice.
   */
  ptzType(): number {
    const s = this.ptz?.status();
    if (s?.state === 'ptz') return this.manualPtzType === 2 ? 2 : 1;
    if (s?.state === 'fixed') return 3;
    return this.manualPtzType;
  }

  /** What the node status adds after the video state; undefined with ONVIF off or connecting. */
  statusNote(): PtzStatusNote | undefined {
    const s = this.ptz?.status();
    if (!s) return undefined;
    switch (s.state) {
      case 'ptz':
        return { key: 'ptz', fallback: 'PTZ', failed: false };
      case 'fixed':
        return { key: 'fixedCamera', fallback: 'fixed', failed: false };
      case 'connecting':
        return undefined;
      case 'failed': {
        const key = s.code && ONVIF_PROBLEM_KEY[s.code];
        // The English text is onvifProblemText's; a cause without its own catalogue key reads "ONVIF: error".
        return key ? { key, fallback: onvifProblemText(s.code), failed: true } : { key: 'onvifError', fallback: onvifProblemText(undefined), failed: true };
      }
    }
  }

  /** A `control` message payload: acts when it is a PTZ event for this channel. */
  async handleControl(event: DeviceControlEvent): Promise<ControlResult> {
    if (event.deviceId !== this.channelId) return { handled: false, why: 'other channel' };
    if (event.type !== 'ptz' && event.type !== 'home-position') return { handled: false, why: 'not ptz' };
    if (!this.ptz) return { handled: true, outcome: { result: 'ignored', reason: 'ONVIF is off for this camera' } };
    const outcome = await this.ptz.handleControl(event);
    return outcome ? { handled: true, outcome } : { handled: false, why: 'not ptz' };
  }

  /** PresetQuery answer: bounded (< 3.5 s); [] with ONVIF off, for a fixed or an unreachable camera. */
  presets(): Promise<ChannelPreset[]> {
    return this.ptz ? this.ptz.presets() : Promise.resolve([]);
  }

  async close(): Promise<void> {
    this.removeAllListeners();
    await this.ptz?.close();
  }
}
