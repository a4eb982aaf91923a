/**
 * The media half of the gateway, as the signalling side sees it (lib/session/stream-contract.ts):
 * prepare() binds/listens and makes sure the camera is reachable, start() (ACK) starts sending,
 * stop() frees everything. Cameras are pulled once per source key and shared between sessions.
 * Failures carry `context.sipStatus` so the SIP side can pick its answer: 404 unknown channel,
 * 480 camera offline, 488 unsupported session/SDP, 500 internal, 503 no port. Playback/Download
 * go through the same PS/RTP path from a RecordingSource when `openRecording` is given.
 */
import { EventEmitter } from 'node:events';
import { GatewayError } from '../errors';
import { Logger, silentLogger } from '../logger';
import { StreamAnswer, StreamHandler, StreamRequest } from '../session/stream-contract';
import { CameraFeed } from './camera-feed';
import { CameraFeedPool } from './camera-feed-pool';
import { FfBinary, locateFfTool } from './ffmpeg-path';
import { IngestError } from './ingest-error';
import { MediaPortRange } from './media-port-range';
import { MediaSession, MediaSessionSource, MediaSessionStats } from './media-session';
import { MediaSourceSpec, SourceState, SourceStats } from './media-source';
import { DEFAULT_RTP_PAYLOAD, RtpPacketizer, ssrcFromY } from './rtp-packetizer';
import { RtpTransport, TcpActiveRtpTransport, TcpPassiveRtpTransport, UdpRtpTransport } from './rtp-transport';

/** A recording played back for one Playback/Download call (lib/record's PlaybackSource has this shape). */
export interface RecordingSource extends MediaSessionSource {
  stop(): void;
  once(event: 'end', listener: (reason: string) => void): unknown;
}

/**
 * A reference-counted hold on a channel's shared camera pull (the CameraFeedPool entry live
 * sessions use), for consumers other than a session: the gateway's recorder. Structurally
 * lib/record's FeedLease, so the camera sees one RTSP connection for live view and recorder.
 */
export interface CameraFeedLease {
  /** Starts (or joins) the camera pull; undefined when the channel has no camera or the service is closed. Idempotent while held. */
  acquire(): CameraFeed | undefined;
  /** Gives the hold back (no-op when not held); the pool stops the pull keepWarmMs after its last holder. */
  release(): void;
  /** Whether this lease holds the feed now. */
  readonly held: boolean;
}

export interface MediaServiceOptions {
  /** Address announced in the SDP answer's c= line. */
  localIp: string;
  /** Local media ports, inclusive. */
  portRange: [number, number];
  /** Address media sockets bind to (default 0.0.0.0: localIp may be a NAT address). */
  bindIp?: string;
  logger?: Logger;
  /** Largest RTP payload (default 1388: 1400-byte packets as ZLMediaKit). */
  maxRtpPayload?: number;
  /** Send the last GOP first to a new session (default true). */
  gopCache?: boolean;
  /** How long a camera keeps running after its last session (default 15000 ms; Infinity = always). */
  keepWarmMs?: number;
  /** Restart ffmpeg after this long without data (default 5000 ms). */
  stallTimeoutMs?: number;
  /** How long prepare() waits for a connecting camera before answering anyway (default 8000 ms). */
  prepareWaitMs?: number;
  /** End sessions (→ BYE) when their camera stays offline this long (default 60000 ms). */
  offlineEndMs?: number;
  /** Slow TCP peer: drop above / resume below these backlogs (defaults 1 MiB / 256 KiB). */
  highWaterBytes?: number;
  lowWaterBytes?: number;
  statsIntervalMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  ffmpegPath?: string;
  resolveSource: (channelId: string, streamNumber: number) => MediaSourceSpec | undefined;
  /**
   * A camera pool shared with others (the Node-RED nodes' recorders lease feeds from it, so a
   * camera is pulled once for live view and recording). The service uses its feeds but never
   * closes it; without it the service owns a pool built from the options above.
   */
  feedPool?: CameraFeedPool;
  /**
   * Playback/Download INVITEs: opens the recording for the request's channel and t= range
   * (undefined = nothing recorded → 404). Without this hook such INVITEs get 488.
   */
  openRecording?: (request: StreamRequest) => RecordingSource | undefined | Promise<RecordingSource | undefined>;
}

export interface MediaServiceEvents {
  /** The stream ended for good (peer closed, camera gone too long): the device should send BYE. */
  'session-ended': [callId: string, reason: string];
  'source-state': [key: string, state: SourceState, reason?: string];
  stats: [stats: SourceStats];
  /** A Playback/Download recording reached its end (GB28181-2016 §9.7.3: MediaStatus 121 follows); the session stays until BYE. */
  'playback-ended': [callId: string, reason: string];
}

export class MediaService extends EventEmitter<MediaServiceEvents> implements StreamHandler {
  private readonly sessions = new Map<string, MediaSession>();
  private readonly pool: CameraFeedPool;
  private readonly ports: MediaPortRange;
  private readonly logger: Logger;
  private ffmpegBinary: FfBinary | undefined;
  private readonly offlineTimers = new Map<string, NodeJS.Timeout>();
  private readonly recordings = new Map<string, RecordingSource>();
  private closed = false;

  constructor(private readonly options: MediaServiceOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.ports = new MediaPortRange(options.portRange[0], options.portRange[1], options.bindIp ?? '0.0.0.0');
    this.pool = options.feedPool ?? new CameraFeedPool({
      ffmpeg: () => this.ffmpeg(),
      logger: this.logger,
      gopCache: options.gopCache,
      keepWarmMs: options.keepWarmMs,
      stallTimeoutMs: options.stallTimeoutMs,
      statsIntervalMs: options.statsIntervalMs,
      backoffMinMs: options.backoffMinMs,
      backoffMaxMs: options.backoffMaxMs,
    });
    this.pool.on('source-state', this.onPoolState);
    this.pool.on('stats', this.onPoolStats);
  }

  private readonly onPoolState = (key: string, state: SourceState, reason: string | undefined): void => this.onSourceState(key, state, reason);
  private readonly onPoolStats = (s: SourceStats): void => { this.emit('stats', s); };

  /** The ffmpeg binary in use (located on first need). */
  ffmpeg(): FfBinary {
    if (!this.ffmpegBinary) this.ffmpegBinary = locateFfTool('ffmpeg', { configuredPath: this.options.ffmpegPath, logger: this.logger });
    return this.ffmpegBinary;
  }

  /** Starts pulling a channel's camera now and keeps it running (instant start, warm GOP cache). */
  keepWarm(channelId: string, streamNumber = 0): boolean {
    const spec = this.options.resolveSource(channelId, streamNumber);
    if (!spec) return false;
    this.pool.keepWarm(spec);
    return true;
  }

  /**
   * A lease on a channel's shared camera pull for a non-session consumer (the recorder). Each
   * lease holds at most one reference; the pull is resolved at acquire() so a changed source is
   * followed, and survives sessions coming and going.
   */
  feedLease(channelId: string, streamNumber = 0): CameraFeedLease {
    let key: string | undefined;
    let feed: CameraFeed | undefined;
    return {
      acquire: (): CameraFeed | undefined => {
        if (feed) return feed;
        if (this.closed) return undefined;
        const spec = this.options.resolveSource(channelId, streamNumber);
        if (!spec) return undefined;
        key = spec.key;
        feed = this.pool.acquire(spec);
        return feed;
      },
      release: (): void => {
        if (!feed || key === undefined) return;
        feed = undefined;
        this.pool.release(key);
      },
      get held(): boolean {
        return feed !== undefined;
      },
    };
  }

  /** The shared feed of a source key (for status and tests). */
  feed(key: string): CameraFeed | undefined {
    return this.pool.get(key);
  }

  async prepare(req: StreamRequest, signal: AbortSignal): Promise<StreamAnswer> {
    const ctx = { callId: req.callId, channelId: req.channelId, deviceId: req.deviceId };
    if (this.closed) throw new GatewayError('MEDIA_CLOSED', 'media service is shut down', { ...ctx, sipStatus: 503 });
    if (this.sessions.has(req.callId)) throw new GatewayError('MEDIA_DUPLICATE_CALL', `a media session for call ${req.callId} already exists`, { ...ctx, sipStatus: 500 });
    if (req.sessionType !== 'Play' && !this.options.openRecording) {
      throw new GatewayError('MEDIA_UNSUPPORTED_SESSION', `${req.sessionType} sessions are not supported (no recordings configured)`, { ...ctx, sipStatus: 488 });
    }
    let ssrc: number;
    try {
      ssrc = ssrcFromY(req.ssrc);
    } catch (e) {
      throw new GatewayError('MEDIA_BAD_SSRC', (e as Error).message, { ...ctx, sipStatus: 488 });
    }
    if (req.sessionType !== 'Play') return this.prepareRecording(req, ssrc, signal, ctx);
    const spec = this.options.resolveSource(req.channelId, req.streamNumber);
    if (!spec) throw new GatewayError('MEDIA_UNKNOWN_CHANNEL', `no camera configured for channel ${req.channelId}`, { ...ctx, sipStatus: 404 });
    try {
      this.ffmpeg();
    } catch (e) {
      throw new GatewayError('FFMPEG_NOT_FOUND', (e as Error).message, { ...ctx, sipStatus: 500 }, { cause: e });
    }
    const feed = this.pool.acquire(spec);
    let transport: RtpTransport | undefined;
    try {
      await this.waitForCamera(feed, spec, signal, { ...ctx, camera: spec.displayUrl });
      transport = await this.openTransport(req);
      if (signal.aborted) throw new GatewayError('MEDIA_ABORTED', 'the INVITE was cancelled', { ...ctx, sipStatus: 487 });
      const packetizer = new RtpPacketizer({ ssrc, payloadType: req.payloadType, maxPayload: this.options.maxRtpPayload ?? DEFAULT_RTP_PAYLOAD });
      const session = new MediaSession(req, feed, transport, packetizer, {
        highWaterBytes: this.options.highWaterBytes,
        lowWaterBytes: this.options.lowWaterBytes,
        logger: this.logger,
      });
      session.once('first-packet', () => this.logger.info('first RTP packet sent', { ...ctx, transport: req.transport }));
      session.once('ended', (reason) => {
        if (this.sessions.get(req.callId) !== session) return;
        this.sessions.delete(req.callId);
        this.pool.release(spec.key);
        this.logger.info(`media session ended: ${reason}`, ctx);
        this.emit('session-ended', req.callId, reason);
      });
      this.sessions.set(req.callId, session);
      this.logger.info('media session prepared', { ...ctx, transport: req.transport, localPort: transport.localPort, camera: spec.displayUrl });
      return { localIp: this.options.localIp, localPort: transport.localPort };
    } catch (e) {
      transport?.close();
      this.pool.release(spec.key);
      throw e;
    }
  }

  private async prepareRecording(req: StreamRequest, ssrc: number, signal: AbortSignal, ctx: Record<string, unknown>): Promise<StreamAnswer> {
    const open = this.options.openRecording as NonNullable<MediaServiceOptions['openRecording']>;
    const source = await open(req);
    if (!source) throw new GatewayError('MEDIA_NO_RECORDING', `no recording for channel ${req.channelId} in the requested range`, { ...ctx, sipStatus: 404 });
    let transport: RtpTransport | undefined;
    try {
      transport = await this.openTransport(req);
      if (signal.aborted) throw new GatewayError('MEDIA_ABORTED', 'the INVITE was cancelled', { ...ctx, sipStatus: 487 });
      const packetizer = new RtpPacketizer({ ssrc, payloadType: req.payloadType, maxPayload: this.options.maxRtpPayload ?? DEFAULT_RTP_PAYLOAD });
      const session = new MediaSession(req, source, transport, packetizer, {
        highWaterBytes: this.options.highWaterBytes,
        lowWaterBytes: this.options.lowWaterBytes,
        logger: this.logger,
      });
      this.recordings.set(req.callId, source);
      source.once('end', (reason) => {
        if (reason !== 'stopped' && this.sessions.get(req.callId) === session) this.emit('playback-ended', req.callId, reason);
      });
      session.once('ended', (reason) => {
        if (this.sessions.get(req.callId) !== session) return;
        this.sessions.delete(req.callId);
        this.recordings.get(req.callId)?.stop();
        this.recordings.delete(req.callId);
        this.emit('session-ended', req.callId, reason);
      });
      this.sessions.set(req.callId, session);
      this.logger.info(`${req.sessionType} session prepared`, { ...ctx, transport: req.transport, localPort: transport.localPort });
      return { localIp: this.options.localIp, localPort: transport.localPort };
    } catch (e) {
      transport?.close();
      source.stop();
      throw e;
    }
  }

  start(callId: string): void {
    this.sessions.get(callId)?.start();
  }

  stop(callId: string, reason: string): void {
    const session = this.sessions.get(callId);
    if (!session) return;
    this.sessions.delete(callId);
    session.stop();
    const recording = this.recordings.get(callId);
    if (recording) {
      this.recordings.delete(callId);
      recording.stop();
    } else {
      this.pool.release(session.feed.key);
    }
    this.logger.info(`media session stopped: ${reason}`, { callId, channelId: session.request.channelId });
  }

  sessionStats(): MediaSessionStats[] {
    return [...this.sessions.values()].map((s) => s.stats());
  }

  /** The session object of a call (for tests and status). */
  session(callId: string): MediaSession | undefined {
    return this.sessions.get(callId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const callId of [...this.sessions.keys()]) this.stop(callId, 'media service closing');
    for (const t of this.offlineTimers.values()) clearTimeout(t);
    this.offlineTimers.clear();
    this.pool.off('source-state', this.onPoolState);
    this.pool.off('stats', this.onPoolStats);
    // A shared pool outlives this service (its other users keep their feeds).
    if (!this.options.feedPool) this.pool.close();
    await new Promise((r) => setImmediate(r));
  }

  private onSourceState(key: string, state: SourceState, reason: string | undefined): void {
    this.emit('source-state', key, state, reason);
    const timer = this.offlineTimers.get(key);
    if (state === 'online' && timer) { clearTimeout(timer); this.offlineTimers.delete(key); }
    if (state === 'offline' && reason !== 'stopped' && !timer) {
      const t = setTimeout(() => {
        this.offlineTimers.delete(key);
        if (this.pool.get(key)?.state === 'online') return;
        for (const [callId, s] of [...this.sessions]) {
          if (s.feed.key !== key || this.recordings.has(callId)) continue;
          this.stop(callId, 'camera offline');
          this.emit('session-ended', callId, `camera offline: ${reason ?? 'unknown'}`);
        }
      }, this.options.offlineEndMs ?? 60000);
      t.unref();
      this.offlineTimers.set(key, t);
    }
  }

  private async waitForCamera(feed: CameraFeed, spec: MediaSourceSpec, signal: AbortSignal, ctx: Record<string, unknown>): Promise<void> {
    if (feed.state === 'online') return;
    const offline = (error: IngestError | undefined, reason?: string): GatewayError =>
      new GatewayError('MEDIA_SOURCE_OFFLINE', `camera ${spec.displayUrl} is offline: ${error?.message ?? reason ?? 'unknown'}`, { ...ctx, sipStatus: 480, cause: error?.code });
    if (feed.state === 'offline' && feed.error) throw offline(feed.error);
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        feed.off('state', onState);
        signal.removeEventListener('abort', onAbort);
      };
      const onState = (state: SourceState, reason: string | undefined, error: IngestError | undefined): void => {
        if (state === 'online') { done(); resolve(); }
        else if (state === 'offline') { done(); reject(offline(error, reason)); }
      };
      const onAbort = (): void => { done(); reject(new GatewayError('MEDIA_ABORTED', 'the INVITE was cancelled', { ...ctx, sipStatus: 487 })); };
      // Still connecting after the wait: answer anyway, frames follow when the camera delivers.
      const timer = setTimeout(() => { done(); resolve(); }, this.options.prepareWaitMs ?? 8000);
      feed.on('state', onState);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort);
    });
  }

  private async openTransport(req: StreamRequest): Promise<RtpTransport> {
    switch (req.transport) {
      case 'udp':
        return new UdpRtpTransport(await this.ports.bindUdp(), req.remoteIp, req.remotePort);
      case 'tcp-active':
        return new TcpActiveRtpTransport(await this.ports.listenTcp());
      case 'tcp-passive':
        return new TcpPassiveRtpTransport(await this.ports.reserveTcpSourcePort(), req.remoteIp, req.remotePort, this.options.bindIp);
      default:
        throw new GatewayError('MEDIA_BAD_TRANSPORT', `unknown media transport ${String(req.transport)}`, { callId: req.callId, sipStatus: 488 });
    }
  }
}
