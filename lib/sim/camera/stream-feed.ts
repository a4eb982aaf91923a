/**
 * One simulated stream path: its encoder's lifecycle (started on demand, stopped after an idle
 * delay unless always on, restarted with backoff if it dies while watched), the GOP cache and the
 * latest RTCP sender report per track, and the fan-out of RTP/RTCP packets to the sessions playing it.
 *
 * Fast start: a new subscriber first gets each track's latest SR (so its RTP→wall-clock mapping is
 * right from the first packet), then every packet (video and audio, in arrival order) since the first
 * packet of the last keyframe's access unit, then the live packets. Its first picture is therefore
 * decodable at once instead of after up to one GOP, and all tracks start at the same instant, as from
 * a camera that just started; the burst is at most one GOP (1 s by default). Packets are not rewritten
 * here; sessions renumber sequence numbers.
 */
import { EventEmitter } from 'node:events';
import { Logger } from '../../logger';
import { EncodedTrack, PatternEncoder, PatternSpec, trackClockRate } from './pattern-encoder';
import { rtpOpensKeyframe } from './rtp-keyframe';

export interface FeedPacket {
  track: number;
  packet: Buffer;
  rtcp: boolean;
  /** First packet of a keyframe access unit (or of the cached GOP): a safe place to (re)start a client. */
  keyStart: boolean;
  /** Which encoder run produced it: a new run has a new SSRC, sequence and timestamp base. */
  generation: number;
}

export type FeedSubscriber = (packet: FeedPacket) => void;

export interface StreamFeedOptions {
  ffmpegPath: string;
  alwaysOn: boolean;
  idleStopMs: number;
  logger: Logger;
  /** Replay the cached GOP to a new subscriber (default); false: it starts at the next live keyframe. */
  replayGop: boolean;
  /** Shared between feeds: a font that made ffmpeg fail is not tried again. */
  clock: { font?: string };
}

/** Bound on the GOP cache if keyframes stop coming (a GOP at 1 Mbit/s is ~100 packets). */
const MAX_GOP_PACKETS = 4000;
const RTCP_SR = 200;

export class StreamFeed extends EventEmitter<{ restarted: [] }> {
  private encoder?: PatternEncoder;
  private launching?: PatternEncoder;
  private starting?: Promise<EncodedTrack[]>;
  private tracks?: EncodedTrack[];
  private readonly subscribers = new Set<FeedSubscriber>();
  /** Every RTP packet since the first packet of the last keyframe's access unit, in arrival order. */
  private gop: Array<{ track: number; packet: Buffer }> = [];
  private gopTs?: number;
  /** Index in `gop` where the current video access unit begins. */
  private auStart = 0;
  private auTs?: number;
  private lastSr = new Map<number, Buffer>();
  private idleTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private restartDelayMs = 1000;
  private closed = false;
  private generation = 0;
  packetsOut = 0;

  constructor(readonly spec: PatternSpec, private readonly options: StreamFeedOptions) {
    super();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get encoderPid(): number | undefined {
    return this.encoder?.pid;
  }

  /** The tracks ffmpeg announced, starting the encoder if it is not running. Also counts as activity. */
  async ready(): Promise<EncodedTrack[]> {
    this.touch();
    if (this.tracks && this.encoder) return this.tracks;
    if (!this.starting) {
      this.starting = this.launch().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  /** Postpones the idle stop (DESCRIBE and SETUP call this before anyone plays). */
  touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.options.alwaysOn && this.subscribers.size === 0 && !this.closed) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.subscribers.size === 0) void this.stopEncoder('idle');
      }, this.options.idleStopMs);
      this.idleTimer.unref();
    }
  }

  /** Sends the cached SRs and GOP to `subscriber` now, then every live packet until the returned function is called. */
  subscribe(subscriber: FeedSubscriber): () => void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const generation = this.generation;
    for (const [track, sr] of this.alignedSenderReports()) subscriber({ track, packet: sr, rtcp: true, keyStart: false, generation });
    if (this.options.replayGop) this.gop.forEach(({ track, packet }, i) => subscriber({ track, packet, rtcp: false, keyStart: i === 0, generation }));
    this.subscribers.add(subscriber);
    return () => {
      if (this.subscribers.delete(subscriber)) this.touch();
    };
  }

  /**
   * The latest SR of every track, re-expressed (same NTP↔RTP mapping, RFC 3550 §6.4.1) at the instant
   * the cached GOP starts. A client syncing tracks by RTCP then gives no packet we send it a time before
   * its first SR; older ffmpeg clamps such negative times and stamps the first frames alike.
   */
  private alignedSenderReports(): Map<number, Buffer> {
    if (!this.options.replayGop) return this.lastSr;
    const video = this.lastSr.get(0);
    if (!video || !this.gop.length || !this.tracks || video.length < 20) return this.lastSr;
    const ntpSeconds = (sr: Buffer): number => sr.readUInt32BE(8) + sr.readUInt32BE(12) / 2 ** 32;
    const delta = (this.gop[0].packet.readUInt32BE(4) - video.readUInt32BE(16)) | 0;
    const t0 = ntpSeconds(video) + delta / trackClockRate(this.tracks[0]);
    const out = new Map<number, Buffer>();
    for (const [track, sr] of this.lastSr) {
      const spec = this.tracks[track];
      if (!spec || sr.length < 20) continue;
      const copy = Buffer.from(sr);
      const ts = (sr.readUInt32BE(16) + Math.round((t0 - ntpSeconds(sr)) * trackClockRate(spec))) >>> 0;
      const whole = Math.floor(t0);
      copy.writeUInt32BE(whole >>> 0, 8);
      copy.writeUInt32BE(Math.min(2 ** 32 - 1, Math.round((t0 - whole) * 2 ** 32)), 12);
      copy.writeUInt32BE(ts, 16);
      out.set(track, copy);
    }
    return out;
  }

  /**
   * RTP timestamp of the first packet subscribe() would send now, per track (RTP-Info rtptime,
   * RFC 2326 §12.33). Valid only until the event loop turns: call it and subscribe() in one go.
   */
  firstTimestamps(): Map<number, number> {
    const out = new Map<number, number>();
    if (!this.options.replayGop) return out;
    for (const { track, packet } of this.gop) if (!out.has(track)) out.set(track, packet.readUInt32BE(4));
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.starting) await this.starting.catch(() => undefined);
    await this.stopEncoder('closed');
  }

  private async launch(): Promise<EncodedTrack[]> {
    if (this.closed) throw new Error('feed closed');
    for (;;) {
      const font = this.options.clock.font;
      const encoder = new PatternEncoder(this.spec, this.options.ffmpegPath, font);
      // Packets flow before ffmpeg has finished writing the SDP: the first keyframe must land in the fresh cache.
      this.resetCaches();
      const generation = ++this.generation;
      this.launching = encoder;
      // A dying predecessor may still deliver a few packets: only the current encoder feeds the caches.
      encoder.on('packet', (track, packet, rtcp) => {
        if (encoder === this.encoder || encoder === this.launching) this.onPacket(track, packet, rtcp, generation);
      });
      try {
        const tracks = await encoder.start();
        if (this.closed) {
          await encoder.stop();
          throw new Error('feed closed');
        }
        this.encoder = encoder;
        this.launching = undefined;
        this.tracks = tracks;
        encoder.once('exit', (detail) => this.onEncoderExit(encoder, detail));
        this.options.logger.debug('simulated stream encoder started', { camera: this.spec.path, pid: encoder.pid });
        this.touch();
        return tracks;
      } catch (err) {
        this.launching = undefined;
        await encoder.stop();
        if (this.closed) throw err;
        if (font && this.options.clock.font === font) {
          // The clock overlay is a nicety: drop it and retry rather than fail the stream.
          this.options.logger.warn('simulated camera: clock overlay failed, continuing without it', { camera: this.spec.path });
          this.options.clock.font = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  private resetCaches(): void {
    this.gop = [];
    this.gopTs = undefined;
    this.auStart = 0;
    this.auTs = undefined;
    this.lastSr.clear();
  }

  private onPacket(track: number, packet: Buffer, rtcp: boolean, generation: number): void {
    let keyStart = false;
    if (rtcp) {
      if (packet[1] === RTCP_SR) this.lastSr.set(track, packet);
    } else {
      if (track === 0) {
        const ts = packet.readUInt32BE(4);
        if (ts !== this.auTs) {
          this.auTs = ts;
          // Before the first keyframe only the current access unit is worth keeping.
          if (this.gopTs === undefined) this.gop = [];
          this.auStart = this.gop.length;
        }
        if (ts !== this.gopTs && rtpOpensKeyframe(this.spec.video, packet)) {
          // The GOP starts with the access unit's first packet (an SEI or AUD may precede the SPS).
          this.gop = this.gop.slice(this.auStart);
          this.auStart = 0;
          this.gopTs = ts;
          keyStart = true;
        }
      }
      this.gop.push({ track, packet });
      if (this.gop.length > MAX_GOP_PACKETS) {
        // Keyframes stopped coming: keep nothing rather than an unbounded or truncated GOP.
        this.gop = [];
        this.gopTs = undefined;
        this.auStart = 0;
      }
    }
    for (const s of this.subscribers) {
      if (!rtcp) this.packetsOut++;
      s({ track, packet, rtcp, keyStart, generation });
    }
  }

  private onEncoderExit(encoder: PatternEncoder, detail: string): void {
    if (this.encoder !== encoder) return;
    this.encoder = undefined;
    this.tracks = undefined;
    if (this.closed) return;
    const wanted = this.options.alwaysOn || this.subscribers.size > 0;
    this.options.logger.warn('simulated stream encoder stopped', { camera: this.spec.path, detail, restart: wanted });
    if (!wanted) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, 10_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.ready().then(() => {
        this.restartDelayMs = 1000;
        this.emit('restarted');
      }, (err: unknown) => this.options.logger.error('simulated stream encoder restart failed', { camera: this.spec.path, error: String(err) }));
    }, delay);
  }

  private async stopEncoder(reason: string): Promise<void> {
    const encoder = this.encoder;
    this.encoder = undefined;
    this.tracks = undefined;
    if (!encoder) return;
    this.options.logger.debug('simulated stream encoder stopping', { camera: this.spec.path, reason });
    this.resetCaches();
    await encoder.stop();
  }
}
