/**
 * Watches cameras nobody is pulling (issue #8): every `intervalMs` a cheap RTSP OPTIONS check per
 * camera, so an idle camera that dies still turns its channel OFF (and raises video loss) and
 * turns it back ON when it returns. While the shared ingest pulls a camera, its state is the
 * authoritative one and the watch skips that camera.
 */
import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../logger';
import { maskRtspUrl } from '../rtsp-url';
import { checkRtspLiveness, LivenessResult } from './rtsp-liveness';

export type LivenessCheck = (url: string) => Promise<LivenessResult>;

export interface CameraLivenessWatchOptions {
  /** Time between checks of one camera. Default 30000 ms. */
  intervalMs?: number;
  /** Consecutive failures before a camera is declared offline. Default 2 (one lost answer is not a dead camera). */
  failuresToOffline?: number;
  /** Bound of one check. Default 3000 ms. */
  timeoutMs?: number;
  /** True while the shared ingest pulls this camera: its state wins, the watch skips the check. */
  isIngestActive?: (id: string) => boolean;
  /** Replaces the OPTIONS check (tests). */
  check?: LivenessCheck;
  logger?: Logger;
}

export interface CameraLivenessWatchEvents {
  /** The watch's verdict changed: offline after `failuresToOffline` failures, online on the first success after. */
  change: [id: string, online: boolean, reason: string | undefined];
}

interface Watched {
  url: string;
  online: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
}

export class CameraLivenessWatch extends EventEmitter<CameraLivenessWatchEvents> {
  private readonly cameras = new Map<string, Watched>();
  private readonly intervalMs: number;
  private readonly failuresToOffline: number;
  private readonly check: LivenessCheck;
  private readonly isIngestActive: (id: string) => boolean;
  private readonly logger: Logger;
  private stopped = false;

  constructor(options: CameraLivenessWatchOptions = {}) {
    super();
    this.intervalMs = Math.max(100, options.intervalMs ?? 30_000);
    this.failuresToOffline = Math.max(1, options.failuresToOffline ?? 2);
    const timeoutMs = options.timeoutMs ?? 3000;
    this.check = options.check ?? ((url) => checkRtspLiveness(url, { timeoutMs }));
    this.isIngestActive = options.isIngestActive ?? (() => false);
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Starts checking a camera (`url` may hold credentials: they are stripped before the wire and
   * masked in logs). `online` is what is known now (e.g. the start probe's result).
   */
  watch(id: string, url: string, online = true): void {
    this.unwatch(id);
    if (this.stopped) return;
    const cam: Watched = { url, online, failures: 0 };
    this.cameras.set(id, cam);
    this.schedule(id, cam);
  }

  unwatch(id: string): void {
    const cam = this.cameras.get(id);
    if (!cam) return;
    if (cam.timer) clearTimeout(cam.timer);
    this.cameras.delete(id);
  }

  /** Another source (a probe, the ingest) established the camera's state: the watch continues from it. */
  noteState(id: string, online: boolean): void {
    const cam = this.cameras.get(id);
    if (!cam) return;
    cam.online = online;
    cam.failures = 0;
  }

  isOnline(id: string): boolean | undefined {
    return this.cameras.get(id)?.online;
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.cameras.keys()]) this.unwatch(id);
  }

  private schedule(id: string, cam: Watched): void {
    cam.timer = setTimeout(() => {
      cam.timer = undefined;
      void this.run(id, cam);
    }, this.intervalMs);
    cam.timer.unref();
  }

  private async run(id: string, cam: Watched): Promise<void> {
    if (this.cameras.get(id) !== cam) return;
    if (this.isIngestActive(id)) {
      // The ingest reports this camera; start counting afresh when it lets go.
      cam.failures = 0;
      this.schedule(id, cam);
      return;
    }
    let result: LivenessResult;
    try {
      result = await this.check(cam.url);
    } catch (e) {
      result = { alive: false, reason: 'unreachable', detail: (e as Error).message, elapsedMs: 0 };
    }
    // Unwatched, re-watched or stopped meanwhile, or the ingest took over: this answer is stale.
    if (this.cameras.get(id) !== cam) return;
    if (!this.isIngestActive(id)) this.judge(id, cam, result);
    // A 'change' listener may have unwatched the camera inside judge().
    if (this.cameras.get(id) === cam) this.schedule(id, cam);
  }

  private judge(id: string, cam: Watched, result: LivenessResult): void {
    if (result.alive) {
      cam.failures = 0;
      if (!cam.online) {
        cam.online = true;
        this.logger.info(`camera ${maskRtspUrl(cam.url)} answers again (RTSP ${result.status})`, { channelId: id });
        this.emit('change', id, true, undefined);
      }
      return;
    }
    cam.failures++;
    this.logger.debug(`liveness check of ${maskRtspUrl(cam.url)} failed (${cam.failures}/${this.failuresToOffline}): ${result.detail}`, { channelId: id });
    if (cam.online && cam.failures >= this.failuresToOffline) {
      cam.online = false;
      this.emit('change', id, false, `${result.reason}: ${result.detail}`);
    }
  }
}
