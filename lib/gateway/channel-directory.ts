/**
 * The cameras of one device as channels: what the catalog lists (ChannelDescriptor) and where
 * the media side pulls each channel from (MediaSourceSpec). Keeps each camera's health so the
 * catalog's Status follows it (GB28181-2016 A.2.1 Status ON/OFF).
 */
import { SourceConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { maskRtspUrl, withRtspCredentials } from '../rtsp-url';
import { ChannelDescriptor } from '../session/stream-contract';
import { OfflineCause, offlineCauseOfProbeFailure } from './offline-cause';

export interface MediaSourceSpecLike {
  key: string;
  url: string;
  displayUrl: string;
  rtspTransport: 'tcp' | 'udp' | 'auto';
}

export interface ProbedStream {
  video?: { codec: string; width?: number; height?: number; fps?: number };
  hasAudio: boolean;
}

export type StreamProber = (url: string, rtspTransport: 'tcp' | 'udp' | 'auto') => Promise<ProbedStream>;

interface ChannelEntry {
  source: SourceConfig;
  descriptor: ChannelDescriptor;
}

/** Key of the ingest that serves a channel's main (0) or sub (1) stream: one ingest per key. */
export function sourceKey(channelId: string, streamNumber: number): string {
  return `${channelId}/${streamNumber === 1 ? 'sub' : 'main'}`;
}

export class ChannelDirectory {
  private readonly entries = new Map<string, ChannelEntry>();
  private readonly logger: Logger;
  private readonly prober?: StreamProber;

  constructor(sources: SourceConfig[], opts: { logger?: Logger; prober?: StreamProber; ffmpegPath?: string } = {}) {
    this.logger = opts.logger ?? silentLogger;
    this.prober = opts.prober;
    for (const source of sources) {
      if (!source.enabled) continue;
      // Optimistic ON until a probe or the ingest says otherwise: WVP lists OFF channels as unplayable.
      const descriptor: ChannelDescriptor = { id: source.channelId, name: source.name, online: true, ptzType: 3 };
      // A fixed position (WGS-84) goes into the catalog item and MobilePosition; both or neither.
      if (source.longitude !== undefined && source.latitude !== undefined) {
        descriptor.longitude = source.longitude;
        descriptor.latitude = source.latitude;
      }
      this.entries.set(source.channelId, { source, descriptor });
    }
  }

  descriptors(): ChannelDescriptor[] {
    return [...this.entries.values()].map((e) => ({ ...e.descriptor }));
  }

  /** One channel's descriptor (a copy); undefined for an unknown or disabled camera. */
  descriptor(channelId: string): ChannelDescriptor | undefined {
    const entry = this.entries.get(channelId);
    return entry ? { ...entry.descriptor } : undefined;
  }

  mediaSource(channelId: string, streamNumber: number): MediaSourceSpecLike | undefined {
    const entry = this.entries.get(channelId);
    if (!entry) return undefined;
    const s = entry.source;
    const base = streamNumber === 1 && s.subUrl ? s.subUrl : s.url;
    const stream = streamNumber === 1 && s.subUrl ? 1 : 0;
    const url = withRtspCredentials(base, { username: s.username, password: s.password });
    return {
      key: sourceKey(channelId, stream),
      url,
      displayUrl: maskRtspUrl(url),
      rtspTransport: s.rtspTransport,
    };
  }

  /**
   * Records an ingest's state and, offline, why (OFF/VLOST/DEFECT); returns the descriptors whose
   * status or offline cause changed.
   */
  setSourceState(key: string, online: boolean, reason?: string, cause?: OfflineCause): ChannelDescriptor[] {
    const channelId = key.split('/')[0];
    const entry = this.entries.get(channelId);
    // Only the main stream decides the channel's status: a dead sub-stream does not take a camera offline.
    if (!entry || !key.endsWith('/main')) return [];
    if (entry.descriptor.online === online) {
      if (online || entry.descriptor.offlineCause === cause) return [];
      entry.descriptor = { ...entry.descriptor, offlineCause: cause };
      this.logger.info(`channel ${channelId} still offline, now ${cause ?? 'for no known reason'}`, { channelId, camera: entry.source.name });
      return [{ ...entry.descriptor }];
    }
    entry.descriptor = withStatus(entry.descriptor, online, cause);
    // Per camera, at warn when it goes away: GbDevice raises the video-loss alarm on this change.
    const line = `channel ${channelId} ${online ? 'online' : `offline (video loss)${reason ? `: ${reason}` : ''}`}`;
    if (online) this.logger.info(line, { channelId, camera: entry.source.name });
    else this.logger.warn(line, { channelId, camera: entry.source.name });
    return [{ ...entry.descriptor }];
  }

  /**
   * Records a feed's state as the media service reports it. Only a feed that is online, or offline for a
   * reason, says something about the camera: `connecting` is a retry in progress, and `offline` with reason
   * `stopped` is a feed closed for lack of viewers — neither may take a channel OFF (nor raise video loss).
   */
  applyFeedState(key: string, state: string, reason?: string, cause?: OfflineCause): ChannelDescriptor[] {
    if (state === 'online') return this.setSourceState(key, true, reason);
    if (state === 'offline' && reason !== 'stopped') return this.setSourceState(key, false, reason, cause);
    return [];
  }

  /** Sets a channel's Info.PTZType (1 PTZ, 3 fixed); returns the descriptor when it changed. */
  setPtzType(channelId: string, ptzType: number): ChannelDescriptor | undefined {
    const entry = this.entries.get(channelId);
    if (!entry || entry.descriptor.ptzType === ptzType) return undefined;
    entry.descriptor = { ...entry.descriptor, ptzType };
    return { ...entry.descriptor };
  }

  /** Probes every camera once; returns the descriptors that changed. A failed probe marks the channel offline. */
  async probeAll(): Promise<ChannelDescriptor[]> {
    const probed = await Promise.all([...this.entries.keys()].map((channelId) => this.probeChannel(channelId)));
    return probed.filter((d): d is ChannelDescriptor => d !== undefined);
  }

  /** Probes one camera (ffprobe); returns its descriptor afterwards, online or not; undefined without a prober. */
  async probeChannel(channelId: string): Promise<ChannelDescriptor | undefined> {
    const entry = this.entries.get(channelId);
    const spec = this.mediaSource(channelId, 0);
    if (!this.prober || !entry || !spec) return undefined;
    try {
      const probed = await this.prober(spec.url, spec.rtspTransport);
      entry.descriptor = { ...withStatus(entry.descriptor, true), video: probed.video, hasAudio: probed.hasAudio };
    } catch (e) {
      this.logger.warn(`probe of ${spec.displayUrl} failed: ${(e as Error).message}`, { channelId });
      entry.descriptor = withStatus(entry.descriptor, false, offlineCauseOfProbeFailure(e));
    }
    return { ...entry.descriptor };
  }
}

/** The descriptor with a new status; the offline cause is kept only while offline. */
function withStatus(d: ChannelDescriptor, online: boolean, cause?: OfflineCause): ChannelDescriptor {
  const { offlineCause: _previous, ...rest } = d;
  void _previous;
  return online || !cause ? { ...rest, online } : { ...rest, online, offlineCause: cause };
}
