/**
 * Carries GB28181 PTZ requests (DeviceControl PTZCmd, HomePosition; GB28181-2016 §9.3, Annex A.3) to
 * one camera's ONVIF PTZ and Imaging services. The SIP side answers WVP at once; the ONVIF calls run
 * here afterwards, serialised and coalesced per camera (PtzCommandQueue), each one bounded.
 *
 * A move never runs forever: every ContinuousMove carries the ONVIF Timeout (`stopAfterMs`), and a
 * watchdog sends Stop when no command has come for `stopAfterMs`, since WVP's stop travels over UDP
 * and can be lost. Holding an arrow longer than that therefore stops the camera; raise the option for
 * platforms that send one move per press and nothing until release.
 */
import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../logger';
import { OnvifCamera, OnvifCameraStatus } from './onvif-camera';
import { classifyOnvifFailure, OnvifError } from './onvif-error';
import { isPresetId, PresetEntry, PresetMap, presetNameFor } from './preset-map';
import { JobKind, PtzCommandQueue } from './ptz-command-queue';
import { describePtzRequest, GuardPosition, HomeAction, LensMotion, PresetAction, PtzMotion, PtzRequest } from './ptz-request';
import { focusSpeedFor, isStill, velocityFor } from './ptz-velocity';

export interface PtzControllerOptions {
  /** Stop a move this long after the last command; also the ContinuousMove Timeout. Default 1000 ms. */
  stopAfterMs?: number;
  /**
   * Honour `{kind: 'home', action: 'set'}`, and on a HomePosition without PresetIndex make the current
   * position the camera's home (SetHomePosition changes the camera for everyone). Default false.
   */
  allowSetHome?: boolean;
  /** Guard position return time when HomePosition carries no ResetTime. Default 30 s. */
  guardDefaultResetSec?: number;
  /** After start(), how often a camera that is not connected is tried again. Default 30000 ms. */
  reconnectEveryMs?: number;
  /** Overall bound of listPresets(), below WVP's 4 s PresetQuery wait. Default 3000 ms. */
  presetQueryTimeoutMs?: number;
  logger?: Logger;
}

export type PtzOutcome =
  | { result: 'done' }
  /** A later motion replaced this one before it was sent. */
  | { result: 'coalesced' }
  /** Nothing sent, on purpose: fixed camera, no Imaging, iris, unknown preset, bad argument. */
  | { result: 'ignored'; reason: string }
  | { result: 'failed'; error: OnvifError };

/** Why a request is not sent, as an error the job throws and handle() turns into `ignored`. */
class IgnoredRequest extends Error {}

const DEFAULT_STOP_AFTER_MS = 1000;
const DEFAULT_PRESET_QUERY_TIMEOUT_MS = 3000;
const DEFAULT_GUARD_RESET_SEC = 30;
const DEFAULT_RECONNECT_EVERY_MS = 30000;

export class PtzController extends EventEmitter {
  readonly camera: OnvifCamera;
  private readonly queue = new PtzCommandQueue();
  private readonly presets = new PresetMap();
  private readonly stopAfterMs: number;
  private readonly allowSetHome: boolean;
  private readonly presetQueryTimeoutMs: number;
  private readonly logger: Logger;
  private readonly guardDefaultResetSec: number;
  private readonly reconnectEveryMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private guard: { presetIndex?: number; resetMs: number } | undefined;
  private guardTimer: NodeJS.Timeout | undefined;
  private ptzMoving = false;
  /** The ContinuousMove the camera runs now, to drop identical repeats (see move()). */
  private lastMove: { x: number; y: number; zoom: number; at: number } | undefined;
  private focusMoving = false;
  private closed = false;
  private readonly notedOnce = new Set<string>();
  private lastFailureCode: string | undefined;

  constructor(camera: OnvifCamera, options: PtzControllerOptions = {}) {
    super();
    this.camera = camera;
    this.stopAfterMs = options.stopAfterMs ?? DEFAULT_STOP_AFTER_MS;
    this.allowSetHome = options.allowSetHome ?? false;
    this.presetQueryTimeoutMs = options.presetQueryTimeoutMs ?? DEFAULT_PRESET_QUERY_TIMEOUT_MS;
    this.guardDefaultResetSec = options.guardDefaultResetSec ?? DEFAULT_GUARD_RESET_SEC;
    this.reconnectEveryMs = options.reconnectEveryMs ?? DEFAULT_RECONNECT_EVERY_MS;
    this.logger = options.logger ?? silentLogger;
    camera.on('status', (s: OnvifCameraStatus) => this.emit('status', s.text, s));
  }

  /**
   * Connects now (so PTZType and the node status are known at deploy) and keeps trying every
   * `reconnectEveryMs` while the camera is not connected. Failures show in `status` events and the log;
   * nothing is thrown. Commands work without start(): they connect on demand.
   */
  start(): void {
    if (this.closed || this.reconnectTimer) return;
    const attempt = () => {
      const s = this.camera.state;
      if (s === 'idle' || s === 'failed') this.camera.connect().catch(() => undefined);
    };
    attempt();
    this.reconnectTimer = setInterval(attempt, this.reconnectEveryMs);
    this.reconnectTimer.unref();
  }

  /** 1 (PTZ) or 3 (fixed) for the catalog's Info.PTZType; 3 until the camera has answered. */
  ptzType(): 1 | 3 {
    return this.camera.ptzType();
  }

  /** Short text for a node status ("PTZ", "fixed", "ONVIF: wrong credentials", …). */
  status(): string {
    return this.camera.status().text;
  }

  /** True while a move or focus move has been sent and no stop since. */
  isMoving(): boolean {
    return this.ptzMoving || this.focusMoving;
  }

  /** SOAP jobs started and motions coalesced so far. */
  queueStats(): { sent: number; coalesced: number; waiting: number; busy: boolean } {
    return this.queue.stats();
  }

  /**
   * Runs one request. Never rejects: the outcome says what happened, failures are also emitted as
   * `ptz-error` (OnvifError) and logged. Resolves once the SOAP call is done, replaced or refused.
   */
  handle(request: PtzRequest): Promise<PtzOutcome> {
    if (this.closed) return Promise.resolve({ result: 'ignored', reason: 'controller closed' });
    const known = this.camera.info;
    const needsPtz = request.kind === 'move' || request.kind === 'preset' || request.kind === 'home' || request.kind === 'home-position';
    if (needsPtz && known && !known.ptz) return Promise.resolve(this.ignored(request, 'fixed camera (no PTZ)'));
    switch (request.kind) {
      case 'move':
        return this.move(request);
      case 'stop':
        return this.stopAll('stop');
      case 'focus-iris':
        return this.lens(request);
      case 'preset':
        return this.preset(request);
      case 'home':
        return this.home(request);
      case 'home-position':
        return this.guardPosition(request);
    }
  }

  /** The guard position in force, if any (GB28181 DeviceStatus/ConfigDownload may report it). */
  guardPositionState(): { presetIndex?: number; resetTime: number } | undefined {
    return this.guard ? { presetIndex: this.guard.presetIndex, resetTime: this.guard.resetMs / 1000 } : undefined;
  }

  /**
   * The camera's presets with our numbers, for PresetQuery (GB28181-2016 Annex A; WVP waits 4 s). A fixed camera
   * has none (empty list). Rejects with an OnvifError on failure or after `presetQueryTimeoutMs`.
   */
  listPresets(): Promise<PresetEntry[]> {
    if (this.closed) return Promise.reject(new OnvifError('ONVIF_CLOSED', 'controller closed', { camera: this.camera.name }));
    const job = this.queue.push('discrete', async () => {
      const info = await this.camera.connect();
      if (!info.ptz) return [];
      return this.refreshPresets();
    });
    return new Promise<PresetEntry[]>((resolve, reject) => {
      let settled = false;
      const fail = (err: OnvifError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.reportFailure('preset query', err);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(new OnvifError('ONVIF_TIMEOUT', `GetPresets: no answer within ${this.presetQueryTimeoutMs} ms`, { camera: this.camera.name, action: 'GetPresets' }));
      }, this.presetQueryTimeoutMs);
      job.then(
        (r) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(r.status === 'done' ? r.value : this.presets.entries());
        },
        (e: unknown) => fail(classifyOnvifFailure(e, 'GetPresets', { camera: this.camera.name })),
      );
    });
  }

  /** Stops the watchdog, sends a last Stop if something moves (bounded), and closes the camera. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.reconnectTimer) clearInterval(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.disarm();
    this.guard = undefined;
    this.armGuard();
    if (this.isMoving()) await this.stopAll('close');
    this.closed = true;
    this.camera.close();
  }

  /**
   * A repeat of the move the camera already runs is not sent again while at least half of its ONVIF
   * Timeout is left: panels and flows that repeat a held arrow every 100 ms would otherwise keep the
   * camera busy with identical calls. Past half, the repeat is sent and renews the camera's Timeout.
   */
  private move(m: PtzMotion): Promise<PtzOutcome> {
    const v = velocityFor(m);
    if (isStill(v)) return this.stopAll('stop');
    this.arm();
    return this.run(m, 'motion', async () => {
      const last = this.lastMove;
      if (this.ptzMoving && last && last.x === v.x && last.y === v.y && last.zoom === v.zoom && Date.now() - last.at < this.stopAfterMs / 2) return 'repeat';
      await this.camera.continuousMove(v, this.stopAfterMs);
      this.ptzMoving = true;
      this.lastMove = { ...v, at: Date.now() };
      return undefined;
    });
  }

  private lens(l: LensMotion): Promise<PtzOutcome> {
    if (l.iris) this.noteOnce('iris', `iris ${l.iris} ignored: ONVIF Imaging has no continuous iris move (only absolute exposure settings)`);
    const speed = focusSpeedFor(l);
    if (speed === 0) return l.iris ? Promise.resolve(this.ignored(l, 'iris not supported over ONVIF')) : this.stopAll('stop');
    const known = this.camera.info;
    if (known && !known.imaging) return Promise.resolve(this.ignored(l, 'no Imaging service (focus)'));
    this.arm();
    return this.run(l, 'motion', async () => {
      await this.camera.focusMove(speed);
      this.focusMoving = true;
    });
  }

  private stopAll(why: 'stop' | 'watchdog' | 'close'): Promise<PtzOutcome> {
    this.disarm();
    return this.run({ kind: 'stop' }, 'motion', async () => {
      const info = await this.camera.connect();
      if (!info.ptz && !this.focusMoving) throw new IgnoredRequest('fixed camera (no PTZ)');
      if (why !== 'stop') this.logger.info(why === 'watchdog' ? `no PTZ command for ${this.stopAfterMs} ms: stopping` : 'closing: stopping the camera', { camera: this.camera.name });
      if (info.ptz) {
        this.lastMove = undefined;
        await this.camera.stop();
        this.ptzMoving = false;
      }
      if (this.focusMoving && info.imaging) {
        await this.camera.focusStop();
        this.focusMoving = false;
      }
      if (why === 'watchdog') this.emit('auto-stop');
    });
  }

  private preset(p: PresetAction): Promise<PtzOutcome> {
    if (!isPresetId(p.preset)) return Promise.resolve(this.ignored(p, `preset number ${p.preset} outside 1..255`));
    return this.run(p, 'discrete', async () => {
      let entry = this.presets.get(p.preset);
      if (!entry) {
        await this.refreshPresets();
        entry = this.presets.get(p.preset);
      }
      if (p.action === 'set') {
        const name = entry?.name ?? presetNameFor(p.preset);
        const token = await this.camera.setPreset(name, entry?.token);
        this.presets.assign(p.preset, token, name);
        return;
      }
      if (!entry) throw new IgnoredRequest(`the camera has no preset ${p.preset}`);
      if (p.action === 'call') {
        await this.camera.gotoPreset(entry.token);
      } else {
        await this.camera.removePreset(entry.token);
        this.presets.remove(p.preset);
      }
    });
  }

  private home(h: HomeAction): Promise<PtzOutcome> {
    if (h.action === 'set' && !this.allowSetHome) return Promise.resolve(this.ignored(h, 'SetHomePosition not enabled (allowSetHome)'));
    return this.run(h, 'discrete', () => (h.action === 'goto' ? this.camera.gotoHomePosition() : this.camera.setHomePosition()));
  }

  private guardPosition(g: GuardPosition): Promise<PtzOutcome> {
    if (!g.enabled) {
      this.guard = undefined;
      this.armGuard();
      this.logger.info('guard position off', { camera: this.camera.name });
      return Promise.resolve({ result: 'done' });
    }
    const presetIndex = g.presetIndex !== undefined && isPresetId(g.presetIndex) ? g.presetIndex : undefined;
    const resetSec = g.resetTime !== undefined && Number.isFinite(g.resetTime) && g.resetTime > 0 ? g.resetTime : this.guardDefaultResetSec;
    this.guard = { presetIndex, resetMs: Math.round(resetSec * 1000) };
    this.armGuard();
    this.logger.info(`guard position on: ${presetIndex !== undefined ? `preset ${presetIndex}` : 'home position'} after ${resetSec} s idle`, { camera: this.camera.name });
    if (presetIndex === undefined && this.allowSetHome) {
      // No preset named: the place the camera looks at now becomes its home (ONVIF SetHomePosition).
      return this.run(g, 'discrete', () => this.camera.setHomePosition());
    }
    return Promise.resolve({ result: 'done' });
  }

  /** (Re)starts the idle timer of the guard position; it fires only when nothing moves. */
  private armGuard(): void {
    if (this.guardTimer) clearTimeout(this.guardTimer);
    this.guardTimer = undefined;
    const guard = this.guard;
    if (!guard || this.closed) return;
    this.guardTimer = setTimeout(() => {
      this.guardTimer = undefined;
      if (this.closed || this.guard !== guard) return;
      if (this.isMoving()) {
        this.armGuard();
        return;
      }
      this.logger.info(`idle for ${guard.resetMs / 1000} s: returning to the guard position`, { camera: this.camera.name });
      const back: Promise<void> =
        guard.presetIndex !== undefined
          ? this.queue.push('discrete', async () => {
              const index = guard.presetIndex ?? 0;
              let token = this.presets.tokenFor(index);
              if (token === undefined) token = (await this.refreshPresets()).find((e) => e.id === index)?.token;
              if (token === undefined) throw new IgnoredRequest(`guard preset ${index} does not exist on the camera`);
              await this.camera.gotoPreset(token);
            }).then(() => undefined)
          : this.queue.push('discrete', () => this.camera.gotoHomePosition()).then(() => undefined);
      back.then(
        () => this.emit('guard-return'),
        (e: unknown) => {
          if (e instanceof IgnoredRequest) this.noteOnce(e.message, e.message);
          else this.reportFailure('guard return', classifyOnvifFailure(e, 'guard return', { camera: this.camera.name }));
        },
      );
    }, guard.resetMs);
    this.guardTimer.unref();
  }

  private async refreshPresets(): Promise<PresetEntry[]> {
    return this.presets.reconcile(await this.camera.getPresets());
  }

  private run(request: PtzRequest, kind: JobKind, job: () => Promise<void | 'repeat'>): Promise<PtzOutcome> {
    if (request.kind !== 'home-position') this.armGuard();
    return this.queue.push(kind, job).then(
      (r): PtzOutcome => {
        if (r.status === 'coalesced' || r.value === 'repeat') return { result: 'coalesced' };
        this.lastFailureCode = undefined;
        return { result: 'done' };
      },
      (e: unknown): PtzOutcome => {
        if (e instanceof IgnoredRequest) return this.ignored(request, e.message);
        const err = classifyOnvifFailure(e, describePtzRequest(request), { camera: this.camera.name });
        if (err.code === 'ONVIF_NO_PTZ') return this.ignored(request, err.message);
        this.reportFailure(describePtzRequest(request), err);
        return { result: 'failed', error: err };
      },
    );
  }

  private reportFailure(what: string, err: OnvifError): void {
    // Warn once per cause until a command succeeds again; repeats go to debug.
    const repeated = this.lastFailureCode === err.code;
    this.lastFailureCode = err.code;
    if (repeated) this.logger.debug(`PTZ ${what} failed again: ${err.message}`, { camera: this.camera.name, code: err.code });
    else this.logger.warn(`PTZ ${what} failed: ${err.message}`, { camera: this.camera.name, code: err.code });
    if (this.listenerCount('ptz-error') > 0) this.emit('ptz-error', err);
  }

  private ignored(request: PtzRequest, reason: string): PtzOutcome {
    this.noteOnce(reason, `PTZ ${describePtzRequest(request)} not sent: ${reason}`);
    return { result: 'ignored', reason };
  }

  /** Logs a note once per reason, so a panel held on a fixed camera does not flood the log. */
  private noteOnce(key: string, message: string): void {
    if (this.notedOnce.has(key)) return;
    this.notedOnce.add(key);
    this.logger.info(message, { camera: this.camera.name });
  }

  private arm(): void {
    this.disarm();
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (!this.closed) void this.stopAll('watchdog');
    }, this.stopAfterMs);
    this.watchdog.unref();
  }

  private disarm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }
}
