/**
 * A simulated IP camera for the demo and the tests: an RTSP/1.0 server (RFC 2326) on 127.0.0.1 that
 * serves live test patterns (H.264 or H.265, optionally G.711 A-law or AAC audio) encoded by ffmpeg —
 * the npm-shipped one works, so nothing is needed from apt. RTP over TCP-interleaved and over UDP,
 * optional Basic/Digest authentication, 404 for unknown paths, and suspend()/resume() to play a camera
 * that goes offline. Each path's encoder runs while someone watches it (or always, on request).
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { GatewayError } from '../../errors';
import { Logger, silentLogger } from '../../logger';
import { locateFfTool } from '../../media/ffmpeg-path';
import { CameraSession, UdpServerPair } from './camera-session';
import { EncodedTrack, findClockFont, PatternSpec, trackClockRate as clockRate } from './pattern-encoder';
import { RtspAuthenticator } from './rtsp-auth';
import { formatRtspResponse, parseTransports, RtspRequest, RtspRequestReader } from './rtsp-wire';
import { StreamFeed } from './stream-feed';

export interface SimulatedStream {
  path: string;
  video: 'h264' | 'h265';
  audio?: 'none' | 'pcma' | 'aac';
  width?: number;
  height?: number;
  fps?: number;
  gop?: number;
  bitrateKbps?: number;
}

export interface SimulatedCameraOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port; start() returns it). */
  port?: number;
  /** Default DEFAULT_SIMULATED_STREAMS. */
  streams?: SimulatedStream[];
  username?: string;
  password?: string;
  /** Explicit ffmpeg; otherwise locateFfTool('ffmpeg') (config, FFMPEG_PATH, PATH, npm package). */
  ffmpegPath?: string;
  /** Keep every encoder running from start() to stop(), instead of only while watched. */
  alwaysOn?: boolean;
  /** How long an encoder keeps running after its last client leaves (default 10 s). */
  idleStopMs?: number;
  /** RTSP session timeout announced in the Session header (default 60 s). */
  sessionTimeoutSec?: number;
  /**
   * Send a new client the packets since the last keyframe first, so its first picture decodes at once
   * (default true). false: it starts at the next live keyframe, up to one GOP later, like most cameras.
   */
  fastStart?: boolean;
  /** Draw a wall clock on the pattern when a font is found (default true; never required). */
  clock?: boolean;
  logger?: Logger;
}

export const DEFAULT_SIMULATED_STREAMS: SimulatedStream[] = [
  { path: '/h264', video: 'h264' },
  { path: '/h265', video: 'h265' },
  { path: '/h264-pcma', video: 'h264', audio: 'pcma' },
  { path: '/h264-aac', video: 'h264', audio: 'aac' },
  { path: '/h265-pcma', video: 'h265', audio: 'pcma' },
];

export interface SimulatedCameraStats {
  sessions: number;
  connections: number;
  describes: number;
  plays: number;
  /** clients: sessions playing the path now; packets: RTP packets sent to clients of that path so far. */
  perPath: Record<string, { clients: number; packets: number }>;
}

interface SimulatedCameraEvents {
  connection: [remoteAddress: string];
  play: [path: string, transport: 'tcp' | 'udp'];
  teardown: [path: string];
}

const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

function normalisePath(p: string): string {
  const withSlash = p.startsWith('/') ? p : `/${p}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}

function toSpec(s: SimulatedStream): PatternSpec {
  const fps = s.fps ?? 25;
  return {
    path: normalisePath(s.path),
    video: s.video,
    audio: s.audio ?? 'none',
    width: s.width ?? 640,
    height: s.height ?? 360,
    fps,
    gop: s.gop ?? fps,
    bitrateKbps: s.bitrateKbps ?? 800,
  };
}

async function bindUdpPair(host: string): Promise<UdpServerPair> {
  // RTP on an even port, RTCP on the next one (RFC 3550 §11), as server_port=a-b promises.
  for (let attempt = 0; attempt < 50; attempt++) {
    const rtp = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      rtp.once('error', () => resolve(false));
      rtp.bind(0, host, () => resolve(true));
    });
    if (!bound) throw new GatewayError('SIM_CAMERA_BIND', `cannot bind a UDP port on ${host}`, { peer: host });
    const port = rtp.address().port;
    if (port % 2 === 0 && port < 65535) {
      const rtcp = dgram.createSocket('udp4');
      const ok = await new Promise<boolean>((resolve) => {
        rtcp.once('error', () => resolve(false));
        rtcp.bind(port + 1, host, () => resolve(true));
      });
      if (ok) return { rtp, rtcp };
      rtcp.close();
    }
    rtp.close();
  }
  throw new GatewayError('SIM_CAMERA_BIND', `no free even/odd UDP port pair on ${host}`, { peer: host });
}

export class SimulatedCamera extends EventEmitter<SimulatedCameraEvents> {
  private readonly host: string;
  private port: number;
  private readonly specs: PatternSpec[];
  private readonly logger: Logger;
  private readonly auth?: RtspAuthenticator;
  private readonly sessionTimeoutSec: number;
  private readonly feeds = new Map<string, StreamFeed>();
  private readonly sessions = new Map<string, CameraSession>();
  private readonly sockets = new Set<net.Socket>();
  private server?: net.Server;
  private udp?: UdpServerPair;
  private sweepTimer?: NodeJS.Timeout;
  private suspended = false;
  private running = false;
  private counters = { describes: 0, plays: 0 };

  constructor(private readonly options: SimulatedCameraOptions = {}) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.specs = (options.streams ?? DEFAULT_SIMULATED_STREAMS).map(toSpec);
    this.logger = options.logger ?? silentLogger;
    this.sessionTimeoutSec = options.sessionTimeoutSec ?? 60;
    if (options.username !== undefined || options.password !== undefined) {
      this.auth = new RtspAuthenticator(options.username ?? '', options.password ?? '');
    }
    const seen = new Set<string>();
    for (const s of this.specs) {
      if (seen.has(s.path)) throw new GatewayError('SIM_CAMERA_CONFIG', `stream path ${s.path} given twice`, { camera: s.path });
      seen.add(s.path);
    }
  }

  async start(): Promise<{ port: number }> {
    if (this.running) return { port: this.port };
    try {
      return await this.open();
    } catch (err) {
      // Leave nothing behind (UDP sockets, encoders) when the port is taken or an encoder fails.
      await this.stop();
      throw err;
    }
  }

  private async open(): Promise<{ port: number }> {
    const ffmpeg = locateFfTool('ffmpeg', { configuredPath: this.options.ffmpegPath, logger: this.logger });
    const clock = { font: this.options.clock === false ? undefined : findClockFont() };
    for (const spec of this.specs) {
      this.feeds.set(spec.path, new StreamFeed(spec, {
        ffmpegPath: ffmpeg.path, alwaysOn: this.options.alwaysOn ?? false, idleStopMs: this.options.idleStopMs ?? 10_000, logger: this.logger, clock,
        replayGop: this.options.fastStart ?? true,
      }));
    }
    this.udp = await bindUdpPair(this.host);
    this.udp.rtp.on('error', () => undefined);
    this.udp.rtcp.on('error', () => undefined);
    // Receiver reports on our RTCP port keep a UDP session alive (RFC 2326 §12.37 says any RTCP does).
    this.udp.rtcp.on('message', (_msg, rinfo) => {
      for (const s of this.sessions.values()) {
        for (const t of s.tracks.values()) if (t.clientPorts && t.clientPorts[1] === rinfo.port) s.lastActivity = Date.now();
      }
    });
    await this.listen(this.port);
    this.running = true;
    this.sweepTimer = setInterval(() => this.sweepSessions(), Math.min(5000, this.sessionTimeoutSec * 500));
    this.sweepTimer.unref();
    if (this.options.alwaysOn) await Promise.all([...this.feeds.values()].map((f) => f.ready()));
    this.logger.info('simulated camera listening', { url: `rtsp://${this.host}:${this.port}`, paths: this.specs.map((s) => s.path), ffmpeg: ffmpeg.path });
    return { port: this.port };
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.dropAllClients();
    await this.closeServer();
    await Promise.all([...this.feeds.values()].map((f) => f.close()));
    this.feeds.clear();
    if (this.udp) {
      this.udp.rtp.close();
      this.udp.rtcp.close();
      this.udp = undefined;
    }
  }

  /** rtsp://host:port/path, with the configured user and password when asked (URL-encoded). */
  url(path: string, withCredentials = false): string {
    const creds = withCredentials && this.auth
      ? `${encodeURIComponent(this.options.username ?? '')}:${encodeURIComponent(this.options.password ?? '')}@`
      : '';
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `rtsp://${creds}${host}:${this.port}${normalisePath(path)}`;
  }

  /** Simulates a camera failure: every client connection is cut and new connections are refused until resume(). */
  async suspend(): Promise<void> {
    if (this.suspended) return;
    this.suspended = true;
    this.dropAllClients();
    await this.closeServer();
    this.logger.info('simulated camera suspended', { port: this.port });
  }

  async resume(): Promise<void> {
    if (!this.suspended) return;
    this.suspended = false;
    if (this.running) await this.listen(this.port);
    this.logger.info('simulated camera resumed', { port: this.port });
  }

  stats(): SimulatedCameraStats {
    const perPath: Record<string, { clients: number; packets: number }> = {};
    for (const [p, f] of this.feeds) perPath[p] = { clients: f.subscriberCount, packets: f.packetsOut };
    return { sessions: this.sessions.size, connections: this.sockets.size, describes: this.counters.describes, plays: this.counters.plays, perPath };
  }

  /** Process ids of the encoders running now (tests check none is left after stop()). */
  encoderPids(): number[] {
    return [...this.feeds.values()].map((f) => f.encoderPid).filter((p): p is number => p !== undefined);
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new GatewayError('SIM_CAMERA_BIND', `cannot listen on ${this.host}:${port}: ${err.message}`, { peer: `${this.host}:${port}` }, { cause: err })));
      server.listen(port, this.host, () => {
        const addr = server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  private closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private dropAllClients(): void {
    for (const s of [...this.sessions.values()]) this.endSession(s);
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private sweepSessions(): void {
    const limit = Date.now() - this.sessionTimeoutSec * 1000;
    for (const s of this.sessions.values()) {
      if (s.lastActivity < limit) {
        this.logger.info('simulated camera session timed out', { camera: s.path, session: s.id });
        this.endSession(s);
      }
    }
  }

  private endSession(session: CameraSession): void {
    if (!this.sessions.delete(session.id)) return;
    session.close();
    this.emit('teardown', session.path);
  }

  private onConnection(socket: net.Socket): void {
    if (this.suspended || !this.running) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const remote = (socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    this.emit('connection', remote);
    socket.setNoDelay(true);
    let queue = Promise.resolve();
    const reader = new RtspRequestReader(
      (request) => {
        // Requests are answered in order even when one waits for an encoder.
        queue = queue.then(() => this.answer(socket, remote, request)).catch((err: unknown) => {
          this.logger.warn('simulated camera request failed', { error: String(err) });
        });
      },
      () => {
        // Interleaved RTCP from the client (receiver reports) keeps its session alive.
        for (const s of this.sessions.values()) if (s.connection === socket) s.lastActivity = Date.now();
      },
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.logger.warn('simulated camera: malformed RTSP, closing connection', { peer: remote, error: String(err) });
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      // Sessions are bound to their connection: a client that goes away stops being served.
      for (const s of [...this.sessions.values()]) if (s.connection === socket) this.endSession(s);
    });
  }

  private async answer(socket: net.Socket, remote: string, req: RtspRequest): Promise<void> {
    const cseq = req.headers.cseq;
    // Behind a wildcard bind, URLs name the address the client actually reached.
    const urlHost = this.host === '0.0.0.0' ? (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '') : this.host;
    const reply = (status: number, headers: Record<string, string | string[]> = {}, body?: string): void => {
      if (!socket.destroyed) socket.write(formatRtspResponse(status, cseq, headers, body));
    };
    const sessionId = req.headers.session?.split(';')[0].trim();
    const session = sessionId ? this.sessions.get(sessionId) : undefined;
    if (session) session.lastActivity = Date.now();

    if (req.method === 'OPTIONS') return reply(200, { Public: PUBLIC_METHODS });
    if (this.auth && !this.auth.verify(req.method, req.headers.authorization)) {
      this.logger.debug('simulated camera: unauthorised request', { peer: remote, method: req.method });
      return reply(401, { 'WWW-Authenticate': this.auth.challenges() });
    }
    if (sessionId && !session && req.method !== 'DESCRIBE') return reply(454);
    const sessionHeader = (s: CameraSession): string => `${s.id};timeout=${this.sessionTimeoutSec}`;

    switch (req.method) {
      case 'DESCRIBE': {
        const target = this.resolve(req.uri);
        if (!target) return reply(404);
        this.counters.describes++;
        let tracks: EncodedTrack[];
        try {
          tracks = await target.feed.ready();
        } catch (err) {
          this.logger.error('simulated camera: encoder failed', { camera: target.feed.spec.path, error: String(err) });
          return reply(503);
        }
        const base = `rtsp://${urlHost}:${this.port}${target.feed.spec.path}/`;
        return reply(200, { 'Content-Type': 'application/sdp', 'Content-Base': base }, this.describeSdp(target.feed.spec, tracks));
      }
      case 'SETUP': {
        const target = this.resolve(req.uri);
        if (!target) return reply(404);
        const tracks = await target.feed.ready().catch(() => undefined);
        // The connection may have been cut (suspend, stop) while the encoder started.
        if (socket.destroyed) return;
        if (!tracks) return reply(503);
        const trackIndex = target.track ?? (tracks.length === 1 ? 0 : undefined);
        if (trackIndex === undefined) return reply(459);
        if (trackIndex >= tracks.length) return reply(404);
        if (session && session.feed !== target.feed) return reply(459);
        const offer = parseTransports(req.headers.transport ?? '').find((t) => !t.multicast && (t.kind === 'tcp' || t.clientPorts));
        if (!offer) return reply(461);
        const s = session ?? new CameraSession(target.feed, socket, this.udpPair(), remote);
        if (!session) this.sessions.set(s.id, s);
        let transport: string;
        if (offer.kind === 'tcp') {
          const channels = offer.interleaved ?? [trackIndex * 2, trackIndex * 2 + 1];
          s.addTrack(trackIndex, 'tcp', channels, clockRate(tracks[trackIndex]));
          transport = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
        } else {
          const ports = offer.clientPorts as [number, number];
          s.addTrack(trackIndex, 'udp', ports, clockRate(tracks[trackIndex]));
          const server = this.udpPair();
          transport = `RTP/AVP;unicast;client_port=${ports[0]}-${ports[1]};server_port=${server.rtp.address().port}-${server.rtcp.address().port}`;
        }
        target.feed.touch();
        return reply(200, { Transport: transport, Session: sessionHeader(s) });
      }
      case 'PLAY': {
        if (!session) return reply(454);
        if (session.tracks.size === 0) return reply(455);
        const base = `rtsp://${urlHost}:${this.port}${session.path}/`;
        // Computed in the same tick as session.play(), so seq and rtptime are those of the first packets sent.
        const firstTs = session.playing ? new Map<number, number>() : session.feed.firstTimestamps();
        const rtpInfo = [...session.tracks.values()].map((t) => {
          const ts = firstTs.get(t.index);
          return `url=${base}trackID=${t.index};seq=${t.nextSeq}${ts !== undefined ? `;rtptime=${ts}` : ''}`;
        }).join(',');
        const wasPlaying = session.playing;
        reply(200, { Session: sessionHeader(session), Range: 'npt=0.000-', 'RTP-Info': rtpInfo });
        if (!wasPlaying) {
          this.counters.plays++;
          session.play();
          this.emit('play', session.path, session.transport);
          this.logger.debug('simulated camera: play', { camera: session.path, transport: session.transport, peer: remote });
        }
        return;
      }
      case 'PAUSE':
        if (!session) return reply(454);
        session.pause();
        return reply(200, { Session: sessionHeader(session) });
      case 'TEARDOWN':
        if (session) this.endSession(session);
        return reply(200);
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return reply(200, session ? { Session: sessionHeader(session) } : {});
      default:
        return reply(501);
    }
  }

  private udpPair(): UdpServerPair {
    if (!this.udp) throw new GatewayError('SIM_CAMERA_STOPPED', 'simulated camera is not running');
    return this.udp;
  }

  /** Maps a request URI to a stream and, for `<path>/trackID=N`, a track. */
  private resolve(uri: string): { feed: StreamFeed; track?: number } | undefined {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(uri).pathname);
    } catch {
      return undefined;
    }
    pathname = normalisePath(pathname);
    const direct = this.feeds.get(pathname);
    if (direct) return { feed: direct };
    const m = /^(.*)\/trackID=(\d+)$/.exec(pathname);
    if (m) {
      const feed = this.feeds.get(normalisePath(m[1]));
      if (feed) return { feed, track: Number(m[2]) };
    }
    return undefined;
  }

  private describeSdp(spec: PatternSpec, tracks: EncodedTrack[]): string {
    const lines = [
      'v=0',
      `o=- ${Date.now()} 1 IN IP4 ${this.host}`,
      `s=Simulated camera ${spec.path}`,
      `i=${spec.video.toUpperCase()} ${spec.width}x${spec.height} ${spec.fps} fps, audio ${spec.audio}`,
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=control:*',
      'a=range:npt=now-',
    ];
    tracks.forEach((t, i) => {
      lines.push(...t.mediaLines);
      if (t.kind === 'video') lines.push(`a=framerate:${spec.fps}`);
      lines.push(`a=control:trackID=${i}`);
    });
    return lines.join('\r\n') + '\r\n';
  }
}
