/**
 * One GB28181 media session: access units from a CameraFeed → PsMuxer → RtpPacketizer → transport.
 * Sending begins at start() (the ACK) once the transport is open, with the feed's GOP cache first so
 * the first frame decodes at once. A slow TCP peer makes it drop whole frames until the next
 * keyframe once the socket backlog passes a high-water mark; drops are counted.
 */
import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../logger';
import { StreamRequest } from '../session/stream-contract';
import { AccessUnit, AudioCodec, isVideoCodec } from './access-unit';
import { FeedSubscriber } from './camera-feed';
import { PsMuxer } from './ps-muxer';
import { RtpPacketizer } from './rtp-packetizer';
import { RtpTransport } from './rtp-transport';

export interface MediaSessionStats {
  callId: string;
  channelId: string;
  /** Where the media goes: "udp 10.0.0.5:30000", "tcp-active 127.0.0.1:41000 (listening)". */
  destination: string;
  packets: number;
  bytes: number;
  droppedFrames: number;
  /** Sequence number of the next RTP packet. */
  nextSequence: number;
}

/**
 * Where a session's access units come from: a live CameraFeed, or a recording being played back
 * (lib/record) — anything with this shape.
 */
export interface MediaSessionSource {
  readonly key: string;
  /** Audio codec seen so far / announced by the source; declared in the PSM from the first pack. */
  readonly audioCodec?: AudioCodec;
  readonly expectedAudioCodec?: AudioCodec;
  subscribe(s: FeedSubscriber): void;
  unsubscribe(s: FeedSubscriber): void;
  /** Units from the last keyframe on, sent first so the first frame decodes. */
  gopSnapshot(): AccessUnit[];
}

export interface MediaSessionOptions {
  /** Start dropping above this many queued bytes (default 1 MiB). */
  highWaterBytes?: number;
  /** Resume (at a keyframe) below this many queued bytes (default 256 KiB). */
  lowWaterBytes?: number;
  logger?: Logger;
}

export interface MediaSessionEvents {
  ended: [reason: string];
  /** First RTP packet of the session handed to the transport. */
  'first-packet': [];
}

export class MediaSession extends EventEmitter<MediaSessionEvents> implements FeedSubscriber {
  readonly callId: string;
  private readonly muxer = new PsMuxer();
  private started = false;
  private sending = false;
  private waitingKeyframe = true;
  private dropping = false;
  private lastVideoDts = -1;
  private ended = false;
  private packets = 0;
  private bytes = 0;
  private droppedFrames = 0;
  private readonly highWater: number;
  private readonly lowWater: number;
  private readonly logger: Logger;

  constructor(
    readonly request: StreamRequest,
    readonly feed: MediaSessionSource,
    readonly transport: RtpTransport,
    readonly packetizer: RtpPacketizer,
    options: MediaSessionOptions = {},
  ) {
    super();
    this.callId = request.callId;
    this.highWater = options.highWaterBytes ?? 1024 * 1024;
    this.lowWater = options.lowWaterBytes ?? 256 * 1024;
    this.logger = options.logger ?? silentLogger;
    transport.on('connected', () => { if (this.started) this.beginSending(); });
    transport.on('closed', (reason) => this.end(reason));
  }

  start(): void {
    if (this.started || this.ended) return;
    this.started = true;
    this.transport.open();
    if (this.transport.connected) this.beginSending();
  }

  stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.sending = false;
    this.feed.unsubscribe(this);
    this.transport.close();
  }

  stats(): MediaSessionStats {
    const r = this.request;
    const destination = this.transport.kind === 'tcp-active'
      ? `tcp-active :${this.transport.localPort}${this.transport.connected ? '' : ' (listening)'}`
      : `${this.transport.kind} ${r.remoteIp}:${r.remotePort}`;
    return { callId: r.callId, channelId: r.channelId, destination, packets: this.packets, bytes: this.bytes, droppedFrames: this.droppedFrames, nextSequence: this.packetizer.nextSequence };
  }

  onUnit(au: AccessUnit): void {
    if (this.sending) this.handle(au);
  }

  onDiscontinuity(): void {
    this.waitingKeyframe = true;
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.stop();
    this.emit('ended', reason);
  }

  private beginSending(): void {
    if (this.sending || this.ended) return;
    this.sending = true;
    this.waitingKeyframe = true;
    const audio: AudioCodec | undefined = this.feed.audioCodec ?? this.feed.expectedAudioCodec;
    if (audio) this.muxer.setAudio(audio);
    this.feed.subscribe(this);
    for (const au of this.feed.gopSnapshot()) this.handle(au);
  }

  private handle(au: AccessUnit): void {
    const video = isVideoCodec(au.codec);
    if (this.waitingKeyframe) {
      if (!video || !au.keyframe) return;
      this.waitingKeyframe = false;
    }
    if (!video && au.codec !== this.muxer.declaredAudio) {
      // Audio only appears in the PSM once it really flows (a silent declared track costs ~10 s, notes §2).
      this.muxer.setAudio(au.codec as AudioCodec);
    }
    const backlog = this.transport.backlog;
    if (this.dropping) {
      if (video && au.keyframe && backlog <= this.lowWater) {
        this.dropping = false;
        this.logger.info('slow media peer caught up, sending again', { callId: this.callId, droppedFrames: this.droppedFrames });
      } else {
        this.droppedFrames++;
        return;
      }
    } else if (backlog > this.highWater) {
      this.dropping = true;
      this.droppedFrames++;
      this.logger.warn('media peer too slow, dropping frames until the next keyframe', { callId: this.callId, backlog });
      return;
    }
    const pack = this.muxer.mux(au);
    if (!pack) return;
    if (video) this.lastVideoDts = au.dts;
    // Audio packs reuse the last video timestamp, as ZLMediaKit's own sender does (notes §3).
    const ts = !video && this.lastVideoDts >= 0 ? this.lastVideoDts : au.dts;
    const frame = this.packetizer.packetize(pack, ts);
    if (this.packets === 0) this.emit('first-packet');
    this.packets += frame.packets.length;
    this.bytes += frame.framed.length - 2 * frame.packets.length;
    this.transport.send(frame);
  }
}
