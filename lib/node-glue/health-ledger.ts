/**
 * What the health-monitor node knows about a gateway flow, built only from the messages wired
 * into it (registration events, channel messages, sender stats and session events): a summary,
 * stall detection that asks for a camera reconnection, and Prometheus text metrics.
 */
import { isRecord } from './flow-messages';

export interface PlatformHealth {
  deviceId: string;
  platform: string;
  state: string;
  reason?: string;
  channels: number;
  live: number;
  since: number;
}

export interface ChannelHealth {
  channelId: string;
  name?: string;
  sourceNodeId?: string;
  /** Last word of the camera's prober (rtsp-source) or of the media feed, whichever came last. */
  online: boolean;
  state?: string;
  reason?: string;
  fps?: number;
  bitrate?: number;
  /** Age of the last frame now (the feed's age at the stats time plus the time since). */
  lastFrameAgeMs?: number;
  reconnects: number;
  reconnectRequests: number;
  stalled: boolean;
}

export interface SessionHealth {
  callId: string;
  channelId: string;
  destination?: string;
  packets: number;
  bytes: number;
  droppedFrames: number;
}

export interface HealthSummary {
  time: string;
  platforms: PlatformHealth[];
  channels: ChannelHealth[];
  sessions: SessionHealth[];
}

export interface ReconnectRequest {
  channelId: string;
  sourceNodeId?: string;
  reason: string;
}

export interface HealthLedgerOptions {
  /** A channel whose last frame is older than this is stalled (default 10000 ms). */
  stallMs?: number;
  /** At most one reconnect request per channel per this period (default 30000 ms). */
  reconnectCooldownMs?: number;
  now?: () => number;
}

interface ChannelRecord {
  channelId: string;
  name?: string;
  sourceNodeId?: string;
  probeOnline?: boolean;
  probeReason?: string;
  feedState?: string;
  feedReason?: string;
  fps?: number;
  bitrate?: number;
  frameAgeMs?: number;
  statsAt?: number;
  reconnects: number;
  reconnectRequests: number;
  lastRequestAt?: number;
  /** Last time the channel was known good (frames flowing or a successful probe). */
  goodAt: number;
}

function s(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function n(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export class HealthLedger {
  private readonly platforms = new Map<string, PlatformHealth>();
  private readonly channels = new Map<string, ChannelRecord>();
  private readonly sessions = new Map<string, SessionHealth>();
  private readonly stallMs: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(o: HealthLedgerOptions = {}) {
    this.stallMs = o.stallMs ?? 10000;
    this.cooldownMs = o.reconnectCooldownMs ?? 30000;
    this.now = o.now ?? Date.now;
  }

  /** Takes one message; returns false when its topic/payload is not one the ledger knows. */
  ingest(topic: unknown, payload: unknown): boolean {
    if (!isRecord(payload)) return false;
    switch (topic) {
      case 'registration': return this.onRegistration(payload);
      case 'channel': return this.onChannel(payload);
      case 'source-state': return this.onSourceState(payload);
      case 'stats': return this.onStats(payload);
      case 'session': return this.onSession(payload);
      default: return false;
    }
  }

  private channel(channelId: string): ChannelRecord {
    let c = this.channels.get(channelId);
    if (!c) {
      c = { channelId, reconnects: 0, reconnectRequests: 0, goodAt: this.now() };
      this.channels.set(channelId, c);
    }
    return c;
  }

  private onRegistration(p: Record<string, unknown>): boolean {
    const deviceId = s(p.deviceId);
    if (!deviceId) return false;
    const platform = s(p.platform) ?? s(p.platformId) ?? '';
    const key = `${deviceId}@${platform}`;
    const prev = this.platforms.get(key);
    const state = s(p.state) ?? 'unknown';
    this.platforms.set(key, {
      deviceId, platform, state,
      ...(s(p.reason) ? { reason: s(p.reason) } : {}),
      channels: n(p.channels) ?? 0,
      live: n(p.live) ?? 0,
      since: prev && prev.state === state ? prev.since : this.now(),
    });
    return true;
  }

  private onChannel(p: Record<string, unknown>): boolean {
    const id = s(p.channelId);
    if (!id) return false;
    const c = this.channel(id);
    c.name = s(p.name) ?? c.name;
    c.sourceNodeId = s(p.sourceNodeId) ?? c.sourceNodeId;
    c.probeOnline = p.online !== false;
    c.probeReason = s(p.reason);
    if (c.probeOnline) c.goodAt = this.now();
    return true;
  }

  private onSourceState(p: Record<string, unknown>): boolean {
    const key = s(p.key);
    const id = s(p.channelId) ?? key?.split('/')[0];
    if (!id || (key && !key.endsWith('/main'))) return !!id;
    const c = this.channel(id);
    c.feedState = s(p.state);
    c.feedReason = s(p.reason);
    if (c.feedState === 'online') c.goodAt = this.now();
    return true;
  }

  private onStats(p: Record<string, unknown>): boolean {
    const now = this.now();
    if (Array.isArray(p.sources)) {
      for (const src of p.sources) {
        if (!isRecord(src)) continue;
        const key = s(src.key);
        if (!key || !key.endsWith('/main')) continue;
        const c = this.channel(key.split('/')[0]);
        c.feedState = s(src.state) ?? c.feedState;
        c.fps = n(src.fps);
        c.bitrate = n(src.bitrate);
        c.frameAgeMs = n(src.lastFrameAgeMs);
        c.reconnects = n(src.reconnects) ?? c.reconnects;
        c.statsAt = now;
        if (c.frameAgeMs !== undefined && c.frameAgeMs >= 0 && c.frameAgeMs < this.stallMs) c.goodAt = now - c.frameAgeMs;
      }
    }
    if (Array.isArray(p.sessions)) {
      const seen = new Set<string>();
      for (const ss of p.sessions) {
        if (!isRecord(ss) || !s(ss.callId)) continue;
        const callId = s(ss.callId) as string;
        seen.add(callId);
        this.sessions.set(callId, {
          callId,
          channelId: s(ss.channelId) ?? '',
          ...(s(ss.destination) ? { destination: s(ss.destination) } : {}),
          packets: n(ss.packets) ?? 0,
          bytes: n(ss.bytes) ?? 0,
          droppedFrames: n(ss.droppedFrames) ?? 0,
        });
      }
      // A stats message lists every session of its sender: the ones it no longer lists are over.
      if (p.complete === true) for (const id of [...this.sessions.keys()]) if (!seen.has(id)) this.sessions.delete(id);
    }
    return true;
  }

  private onSession(p: Record<string, unknown>): boolean {
    const callId = s(p.callId);
    if (!callId) return false;
    const ev = s(p.event);
    if (ev === 'stopped' || ev === 'ended' || ev === 'failed') this.sessions.delete(callId);
    else if (!this.sessions.has(callId)) {
      this.sessions.set(callId, { callId, channelId: s(p.channelId) ?? '', ...(s(p.destination) ? { destination: s(p.destination) } : {}), packets: 0, bytes: 0, droppedFrames: 0 });
    }
    return true;
  }

  private frameAge(c: ChannelRecord, now: number): number | undefined {
    if (c.frameAgeMs === undefined || c.statsAt === undefined || c.frameAgeMs < 0) return undefined;
    return c.frameAgeMs + (now - c.statsAt);
  }

  private isStalled(c: ChannelRecord, now: number): { stalled: boolean; reason: string } {
    if (c.feedState === 'offline') return { stalled: true, reason: `camera feed offline${c.feedReason ? `: ${c.feedReason}` : ''}` };
    if (c.probeOnline === false && c.feedState !== 'online') return { stalled: true, reason: `camera offline${c.probeReason ? `: ${c.probeReason}` : ''}` };
    const age = this.frameAge(c, now);
    if (age !== undefined && age > this.stallMs) return { stalled: true, reason: `no frame for ${Math.round(age / 1000)} s` };
    return { stalled: false, reason: '' };
  }

  /** Channels to reconnect now (each at most once per cooldown); counts the requests. */
  checkStalls(): ReconnectRequest[] {
    const now = this.now();
    const out: ReconnectRequest[] = [];
    for (const c of this.channels.values()) {
      const { stalled, reason } = this.isStalled(c, now);
      if (!stalled) continue;
      if (c.lastRequestAt !== undefined && now - c.lastRequestAt < this.cooldownMs) continue;
      c.lastRequestAt = now;
      c.reconnectRequests += 1;
      out.push({ channelId: c.channelId, ...(c.sourceNodeId ? { sourceNodeId: c.sourceNodeId } : {}), reason });
    }
    return out;
  }

  summary(): HealthSummary {
    const now = this.now();
    return {
      time: new Date(now).toISOString(),
      platforms: [...this.platforms.values()].map((p) => ({ ...p })),
      channels: [...this.channels.values()].map((c) => {
        const { stalled, reason } = this.isStalled(c, now);
        const age = this.frameAge(c, now);
        const online = c.feedState ? c.feedState === 'online' : c.probeOnline !== false;
        return {
          channelId: c.channelId,
          ...(c.name ? { name: c.name } : {}),
          ...(c.sourceNodeId ? { sourceNodeId: c.sourceNodeId } : {}),
          online,
          ...(c.feedState ? { state: c.feedState } : {}),
          ...(stalled ? { reason } : {}),
          ...(c.fps !== undefined ? { fps: c.fps } : {}),
          ...(c.bitrate !== undefined ? { bitrate: c.bitrate } : {}),
          ...(age !== undefined ? { lastFrameAgeMs: age } : {}),
          reconnects: c.reconnects,
          reconnectRequests: c.reconnectRequests,
          stalled,
        };
      }),
      sessions: [...this.sessions.values()].map((x) => ({ ...x })),
    };
  }

  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    const sum = this.summary();
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, rows: Array<[Record<string, string>, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of rows) {
        const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
        lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
      }
    };
    metric('gb28181_registered', 'gauge', '1 when the device is registered with the platform.', sum.platforms.map((p) => [{ device: p.deviceId, platform: p.platform }, p.state === 'registered' ? 1 : 0]));
    metric('gb28181_channel_online', 'gauge', '1 when the camera of the channel delivers.', sum.channels.map((c) => [{ channel: c.channelId }, c.online ? 1 : 0]));
    metric('gb28181_channel_fps', 'gauge', 'Video frames per second from the camera.', sum.channels.filter((c) => c.fps !== undefined).map((c) => [{ channel: c.channelId }, c.fps as number]));
    metric('gb28181_channel_bitrate_bps', 'gauge', 'Bit rate from the camera.', sum.channels.filter((c) => c.bitrate !== undefined).map((c) => [{ channel: c.channelId }, c.bitrate as number]));
    metric('gb28181_channel_last_frame_age_seconds', 'gauge', 'Seconds since the last frame from the camera.', sum.channels.filter((c) => c.lastFrameAgeMs !== undefined).map((c) => [{ channel: c.channelId }, (c.lastFrameAgeMs as number) / 1000]));
    metric('gb28181_channel_reconnects_total', 'counter', 'Camera reconnections by the media feed.', sum.channels.map((c) => [{ channel: c.channelId }, c.reconnects]));
    metric('gb28181_channel_reconnect_requests_total', 'counter', 'Reconnections asked by the health monitor.', sum.channels.map((c) => [{ channel: c.channelId }, c.reconnectRequests]));
    metric('gb28181_session_packets_total', 'counter', 'RTP packets sent in the session.', sum.sessions.map((x) => [{ call_id: x.callId, channel: x.channelId }, x.packets]));
    metric('gb28181_session_bytes_total', 'counter', 'RTP bytes sent in the session.', sum.sessions.map((x) => [{ call_id: x.callId, channel: x.channelId }, x.bytes]));
    metric('gb28181_session_dropped_frames_total', 'counter', 'Frames dropped for a slow peer.', sum.sessions.map((x) => [{ call_id: x.callId, channel: x.channelId }, x.droppedFrames]));
    return lines.join('\n') + '\n';
  }
}
