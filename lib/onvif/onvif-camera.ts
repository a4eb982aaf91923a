/**
 * One camera's ONVIF interface, over the `onvif` package (agsh/onvif 0.8.3) behind our own small API.
 * We run the connect sequence ourselves (`autoconnect: false`) instead of the package's `connect()`:
 * that one also calls GetVideoSources and a source matcher that throws from inside a socket callback on
 * unusual profile layouts, and it has no overall bound. Ours: GetSystemDateAndTime (clock offset for
 * the WS-Security `Created`, ONVIF Core §5.12.2), GetCapabilities (GetServices as fallback) for the
 * service addresses, GetProfiles for the profile carrying a PTZConfiguration. Every SOAP call has a
 * deadline; after a failed connect, calls fail at once until `retryBackoffMs` has passed, so a dead
 * camera never holds a caller for longer than one call's bound.
 */
import { EventEmitter } from 'node:events';
import { Cam, OnvifCallback } from 'onvif';
import { Logger, silentLogger } from '../logger';
import { classifyOnvifFailure, OnvifError, onvifProblemText } from './onvif-error';
import { asList, asRecord, soapBodyOf, soapText, xmlText } from './onvif-reply';
import { PtzVelocity } from './ptz-velocity';
import { installWsSecurityHeader } from './ws-security-header';

export interface OnvifCameraOptions {
  /** Who this is, for logs and error context (the camera's name or channel). */
  name: string;
  hostname: string;
  /** ONVIF HTTP port; default 80. */
  port?: number;
  /** Device service path; default /onvif/device_service. */
  path?: string;
  username?: string;
  password?: string;
  /** Bound of one SOAP call in ms; default 2000. */
  callTimeoutMs?: number;
  /** After a failed connect, fail fast for this long before trying again; default 5000 ms. */
  retryBackoffMs?: number;
  logger?: Logger;
}

export type OnvifCameraState = 'idle' | 'connecting' | 'ready' | 'failed' | 'closed';

export interface OnvifCameraInfo {
  /** True when a media profile carries a PTZConfiguration and the device has a PTZ service. */
  ptz: boolean;
  /** Token of the profile used for PTZ calls (the one with a PTZConfiguration), or of the first profile. */
  profileToken?: string;
  /** Video source of that profile, for Imaging calls. */
  videoSourceToken?: string;
  /** The device has an Imaging service (focus moves). */
  imaging: boolean;
}

export interface CameraPreset {
  token: string;
  name: string;
}

export interface OnvifCameraStatus {
  state: OnvifCameraState;
  /** Short text for a node status: "PTZ", "fixed", "ONVIF: wrong credentials", … */
  text: string;
  info?: OnvifCameraInfo;
  error?: OnvifError;
}

const DEFAULT_CALL_TIMEOUT_MS = 2000;
const DEFAULT_RETRY_BACKOFF_MS = 5000;

/** Where to find ONVIF when only the RTSP URL is known: the same host, port 80 (the usual default). */
export function onvifAddressFromRtsp(rtspUrl: string): { hostname: string; port: number } | undefined {
  try {
    const u = new URL(rtspUrl);
    if (!u.hostname) return undefined;
    return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: 80 };
  } catch {
    return undefined;
  }
}

export class OnvifCamera extends EventEmitter {
  readonly name: string;
  private readonly cam: Cam;
  private readonly callTimeoutMs: number;
  private readonly retryBackoffMs: number;
  private readonly logger: Logger;
  private readonly peer: string;
  private stateNow: OnvifCameraState = 'idle';
  private infoNow: OnvifCameraInfo | undefined;
  private lastError: OnvifError | undefined;
  private failedAt = 0;
  private connecting: Promise<OnvifCameraInfo> | undefined;
  private failedBeforeConnect: string | undefined;

  constructor(options: OnvifCameraOptions) {
    super();
    this.name = options.name;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    this.logger = options.logger ?? silentLogger;
    const port = options.port ?? 80;
    this.peer = `${options.hostname}:${port}`;
    this.cam = new Cam({
      hostname: options.hostname,
      port,
      path: options.path,
      username: options.username,
      password: options.password,
      timeout: this.callTimeoutMs,
      autoconnect: false,
      // Service XAddrs often name an address we cannot reach (NAT, a second NIC): keep ours.
      preserveAddress: true,
    });
    if (!installWsSecurityHeader(this.cam, options.username, options.password)) {
      this.logger.warn('onvif package without _envelopeHeader: using its own WS-Security header (ASCII passwords only)', { camera: this.name });
    }
    // The package emits 'error' nowhere we call, but an EventEmitter without a listener would throw.
    this.cam.on('error', (e: unknown) => this.logger.debug('onvif package error event', { camera: this.name, error: String(e) }));
  }

  get state(): OnvifCameraState {
    return this.stateNow;
  }

  get info(): OnvifCameraInfo | undefined {
    return this.infoNow;
  }

  /** GB28181 catalog Info.PTZType (GB28181-2016 Annex A catalog item; 1 dome, 2 half-dome, 3 fixed, 4 remote bullet): 1 or 3 here. */
  ptzType(): 1 | 3 {
    return this.infoNow?.ptz ? 1 : 3;
  }

  status(): OnvifCameraStatus {
    const info = this.infoNow;
    switch (this.stateNow) {
      case 'ready':
        return { state: 'ready', text: info?.ptz ? 'PTZ' : 'fixed', info };
      case 'failed':
        return { state: 'failed', text: onvifProblemText(this.lastError?.code), info, error: this.lastError };
      case 'connecting':
        return { state: 'connecting', text: 'ONVIF: connecting', info };
      case 'closed':
        return { state: 'closed', text: 'ONVIF: closed', info };
      default:
        return { state: 'idle', text: 'ONVIF: not connected', info };
    }
  }

  /**
   * Connects if needed and returns what the camera offers. Rejects with an OnvifError (fast, without
   * network, while the last failure is younger than `retryBackoffMs`).
   */
  connect(): Promise<OnvifCameraInfo> {
    if (this.stateNow === 'closed') return Promise.reject(new OnvifError('ONVIF_CLOSED', 'camera closed', this.context()));
    if (this.stateNow === 'ready' && this.infoNow) return Promise.resolve(this.infoNow);
    if (this.connecting) return this.connecting;
    if (this.stateNow === 'failed' && this.lastError && Date.now() - this.failedAt < this.retryBackoffMs) return Promise.reject(this.lastError);
    this.failedBeforeConnect = this.stateNow === 'failed' ? this.lastError?.code : undefined;
    this.setState('connecting');
    this.connecting = this.runConnect().then(
      (info) => {
        this.connecting = undefined;
        if (this.stateNow === 'closed') throw new OnvifError('ONVIF_CLOSED', 'camera closed', this.context());
        this.infoNow = info;
        this.lastError = undefined;
        this.logger.info(`ONVIF connected: ${info.ptz ? 'PTZ camera' : 'fixed camera (no PTZ)'}`, { camera: this.name, peer: this.peer, profile: info.profileToken, imaging: info.imaging });
        this.setState('ready');
        return info;
      },
      (e: unknown) => {
        this.connecting = undefined;
        const err = classifyOnvifFailure(e, 'connect', this.context());
        this.fail(err);
        throw err;
      },
    );
    return this.connecting;
  }

  private async runConnect(): Promise<OnvifCameraInfo> {
    await this.call('GetSystemDateAndTime', (cb) => this.cam.getSystemDateAndTime(cb));
    try {
      await this.call('GetCapabilities', (cb) => this.cam.getCapabilities(cb));
    } catch (e) {
      const err = classifyOnvifFailure(e, 'GetCapabilities', this.context());
      if (err.code !== 'ONVIF_FAULT') throw err;
      // GetCapabilities is deprecated since ONVIF 2.1; a newer device may only answer GetServices.
      await this.call('GetServices', (cb) => this.cam.getServices(false, cb));
    }
    const uri = this.cam.uri ?? {};
    if (!uri['media']) throw new OnvifError('ONVIF_BAD_RESPONSE', 'the device lists no media service', this.context());
    const reply = await this.call('GetProfiles', (cb) => this.cam.getProfiles(cb));
    // Tokens from the raw XML, exactly as the camera wrote them (see getPresets).
    const profiles = asList(asRecord(soapBodyOf(reply.xml)?.['GetProfilesResponse'])?.['Profiles']).map(asRecord);
    const withPtz = profiles.find((p) => p?.['PTZConfiguration'] !== undefined);
    const chosen = withPtz ?? profiles[0];
    const token = chosen?.['@_token'];
    const profileToken = typeof token === 'string' ? token : undefined;
    const videoSourceToken = soapText(asRecord(chosen?.['VideoSourceConfiguration'])?.['SourceToken']);
    const ptzService = uri['ptz'] !== undefined;
    if (withPtz && !ptzService) this.logger.warn('a profile has a PTZConfiguration but the device lists no PTZ service: treating it as fixed', { camera: this.name });
    if (!withPtz && ptzService) this.logger.info('PTZ service present but no profile carries a PTZConfiguration: treating it as fixed', { camera: this.name });
    return {
      ptz: Boolean(withPtz && ptzService && profileToken),
      profileToken,
      videoSourceToken,
      imaging: uri['imaging'] !== undefined && videoSourceToken !== undefined,
    };
  }

  /** ContinuousMove (PTZ Service Spec §5.3.3) in the generic velocity space, with the ONVIF Timeout. */
  async continuousMove(v: PtzVelocity, timeoutMs: number): Promise<void> {
    const profileToken = await this.ptzProfile('ContinuousMove');
    await this.call('ContinuousMove', (cb) => this.cam.continuousMove({ profileToken, x: v.x, y: v.y, zoom: v.zoom, timeout: timeoutMs }, cb));
  }

  async stop(): Promise<void> {
    const profileToken = await this.ptzProfile('Stop');
    await this.call('Stop', (cb) => this.cam.stop({ profileToken, panTilt: true, zoom: true }, cb));
  }

  async getPresets(): Promise<CameraPreset[]> {
    const profileToken = await this.ptzProfile('GetPresets');
    const reply = await this.call('GetPresets', (cb) => this.cam.getPresets({ profileToken }, cb));
    // Read the raw XML: the package's own result is keyed by name (drops presets sharing one) and
    // turns numeric-looking tokens into numbers.
    const response = asRecord(soapBodyOf(reply.xml)?.['GetPresetsResponse']);
    const out: CameraPreset[] = [];
    for (const p of asList(response?.['Preset'])) {
      const token = asRecord(p)?.['@_token'];
      if (typeof token !== 'string') continue;
      out.push({ token, name: soapText(asRecord(p)?.['Name']) ?? '' });
    }
    return out;
  }

  /** SetPreset (§5.4.1) at the current position; returns the preset token the camera uses. */
  async setPreset(name: string, token?: string): Promise<string> {
    const profileToken = await this.ptzProfile('SetPreset');
    const reply = await this.call(
      'SetPreset',
      (cb) => this.cam.setPreset({ profileToken, presetName: xmlText(name), presetToken: token === undefined ? undefined : xmlText(token) }, cb),
    );
    const answered = soapText(asRecord(soapBodyOf(reply.xml)?.['SetPresetResponse'])?.['PresetToken']);
    const result = answered ?? token;
    if (result === undefined) throw new OnvifError('ONVIF_BAD_RESPONSE', 'SetPreset: no PresetToken in the answer', this.context({ action: 'SetPreset' }));
    return result;
  }

  async gotoPreset(token: string): Promise<void> {
    const profileToken = await this.ptzProfile('GotoPreset');
    await this.call('GotoPreset', (cb) => this.cam.gotoPreset({ profileToken, preset: xmlText(token) }, cb));
  }

  async removePreset(token: string): Promise<void> {
    const profileToken = await this.ptzProfile('RemovePreset');
    await this.call('RemovePreset', (cb) => this.cam.removePreset({ profileToken, presetToken: xmlText(token) }, cb));
  }

  async gotoHomePosition(): Promise<void> {
    const profileToken = await this.ptzProfile('GotoHomePosition');
    await this.call('GotoHomePosition', (cb) => this.cam.gotoHomePosition({ profileToken }, cb));
  }

  async setHomePosition(): Promise<void> {
    const profileToken = await this.ptzProfile('SetHomePosition');
    await this.call('SetHomePosition', (cb) => this.cam.setHomePosition({ profileToken }, cb));
  }

  /** Imaging Move, continuous focus (Imaging Service Spec §5.3.1); `speed` in [-1, 1], + far. */
  async focusMove(speed: number): Promise<void> {
    const token = await this.imagingSource('Move');
    await this.call('Imaging Move', (cb) => this.cam.imagingMove({ token, continuous: { speed } }, cb));
  }

  async focusStop(): Promise<void> {
    const token = await this.imagingSource('Stop');
    await this.call('Imaging Stop', (cb) => this.cam.imagingStop({ token }, cb));
  }

  /** No more calls; pending ones finish or time out on their own bound. */
  close(): void {
    this.setState('closed');
  }

  private async ptzProfile(action: string): Promise<string> {
    const info = await this.connect();
    if (!info.ptz || !info.profileToken) throw new OnvifError('ONVIF_NO_PTZ', `${action}: the camera has no PTZ`, this.context({ action }));
    return xmlText(info.profileToken);
  }

  private async imagingSource(action: string): Promise<string> {
    const info = await this.connect();
    if (!info.imaging || !info.videoSourceToken) throw new OnvifError('ONVIF_NO_PTZ', `Imaging ${action}: the camera has no Imaging service`, this.context({ action }));
    return xmlText(info.videoSourceToken);
  }

  /**
   * One SOAP call with a deadline. A transport failure (refused, timeout, unreachable, credentials)
   * marks the camera failed, so the next call reconnects (after the backoff) instead of waiting again.
   */
  private call(action: string, run: (cb: OnvifCallback) => void): Promise<{ data: unknown; xml?: string }> {
    return new Promise<{ data: unknown; xml?: string }>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(this.afterFailure(new OnvifError('ONVIF_TIMEOUT', `${action}: no answer from the camera within ${this.callTimeoutMs} ms`, this.context({ action }))));
      }, this.callTimeoutMs);
      const done: OnvifCallback = (err, data, xml) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(this.afterFailure(classifyOnvifFailure(err, action, this.context())));
        else resolve({ data, xml });
      };
      try {
        run(done);
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private afterFailure(err: OnvifError): OnvifError {
    const transport = err.code === 'ONVIF_AUTH' || err.code === 'ONVIF_REFUSED' || err.code === 'ONVIF_TIMEOUT' || err.code === 'ONVIF_UNREACHABLE';
    if (transport && this.stateNow === 'ready') this.fail(err);
    return err;
  }

  private fail(err: OnvifError): void {
    if (this.stateNow === 'closed') return;
    // One warning per cause: a camera that stays down is not logged again at every retry.
    const previous = this.stateNow === 'connecting' ? this.failedBeforeConnect : this.stateNow === 'failed' ? this.lastError?.code : undefined;
    const repeated = previous === err.code;
    const context = { camera: this.name, peer: this.peer, code: err.code };
    if (repeated) this.logger.debug(`ONVIF still failing: ${err.message}`, context);
    else this.logger.warn(`ONVIF ${err.message}`, context);
    this.lastError = err;
    this.failedAt = Date.now();
    this.setState('failed');
  }

  private setState(s: OnvifCameraState): void {
    if (this.stateNow === s && s !== 'failed') return;
    this.stateNow = s;
    this.emit('status', this.status());
  }

  private context(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { camera: this.name, peer: this.peer, ...extra };
  }
}
