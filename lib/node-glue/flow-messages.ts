/**
 * The plain-JSON messages the GB28181 nodes exchange over wires (Node-RED clones them, so they
 * carry data only: no sockets, no media, no passwords). One definition here, used by every node
 * and by the tests, so a sender and a device agree on field names.
 */
import { ChannelDescriptor, MediaTransport, StreamRequest } from '../session/stream-contract';

/** rtsp-source → gb28181-device (topic `channel`), and gb28181-device → output 2 (catalog change). */
export interface ChannelMessage {
  channelId: string;
  name: string;
  online: boolean;
  /** Why the camera is offline (a probe error with advice), when it is. */
  reason?: string;
  /**
   * What kind of offline, for the catalog event (GB28181-2016 A.2.4): `unreachable` → OFF, `video-lost`
   * → VLOST, `defect` (credentials, path, codec refused) → DEFECT. Absent means OFF.
   */
  offlineCause?: OfflineCause;
  video?: { codec: string; width?: number; height?: number; fps?: number };
  hasAudio?: boolean;
  audioCodec?: string;
  /** Node id of the rtsp-source: a sender asks it for the URL and credentials (RED.nodes.getNode). */
  sourceNodeId?: string;
  /** Main stream URL with the password masked. */
  url?: string;
  /** Sub-stream URL with the password masked, when there is one. */
  subUrl?: string;
  manufacturer?: string;
  model?: string;
  ptzType?: number;
}

export type OfflineCause = NonNullable<ChannelDescriptor['offlineCause']>;
const OFFLINE_CAUSES: readonly string[] = ['unreachable', 'video-lost', 'defect'] satisfies OfflineCause[];

/** gb28181-device output 1: a stream request on its way to a ps-rtp-sender. */
/** A StreamRequest (lib/session) as it travels from the device node to a sender node. */
export interface InviteMessage extends StreamRequest {
  event: 'invite';
  /** Node id of the device: the sender answers through `RED.nodes.getNode(deviceNodeId)`. */
  deviceNodeId: string;
  sourceNodeId?: string;
  /** Milliseconds the device waits for a sender to claim the request before answering 503 itself. */
  claimWithinMs: number;
}

export interface AckMessage {
  event: 'ack';
  callId: string;
  deviceNodeId: string;
  channelId: string;
}

/** The session is over (BYE either way, CANCEL, failure): the sender frees its media. */
export interface ByeMessage {
  event: 'bye';
  callId: string;
  deviceNodeId: string;
  channelId: string;
  reason: string;
}

/**
 * MANSRTSP INFO of a Playback/Download dialog (GB28181-2016 Annex B; PAUSE, PLAY with Range/Scale,
 * TEARDOWN), already answered by the device: the sender serving the call applies it to its reader.
 */
export interface PlaybackControlMessage {
  event: 'playback-control';
  callId: string;
  deviceNodeId: string;
  channelId: string;
  command: PlaybackCommand;
}

/** MansRtspCommand as plain data (lib/device/mansrtsp-command.ts). */
export interface PlaybackCommand {
  method: 'PLAY' | 'PAUSE' | 'TEARDOWN';
  /** Range npt=from-[to], seconds from the start of the requested range; 'now' = where it is. */
  range?: { from: 'now' | number; to?: number };
  scale?: number;
}

export type StreamRequestMessage = InviteMessage | AckMessage | ByeMessage | PlaybackControlMessage;

/** gb28181-device output 2, topic `registration`. */
export interface RegistrationMessage {
  deviceId: string;
  platformId: string;
  platform: string;
  state: 'idle' | 'registering' | 'registered' | 'failed' | 'unregistered';
  reason?: string;
  status?: number;
  channels: number;
  live: number;
}

/** ps-rtp-sender output, topic `session`. */
export interface SessionEventMessage {
  event: 'prepared' | 'started' | 'stopped' | 'ended' | 'failed';
  callId: string;
  channelId: string;
  deviceNodeId: string;
  transport?: MediaTransport;
  destination?: string;
  localPort?: number;
  reason?: string;
}

/** What a sender answers to a device for one INVITE. */
export type InviteAnswer = { ok: true; localIp: string; localPort: number } | { ok: false; reason: string; sipStatus?: number };

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Reads a channel message from an untyped payload; undefined names the first missing field. */
export function readChannelMessage(payload: unknown): { ok: true; channel: ChannelMessage } | { ok: false; problem: string } {
  if (!isRecord(payload)) return { ok: false, problem: 'msg.payload is not an object' };
  const channelId = str(payload.channelId);
  if (!channelId || !/^\d{20}$/.test(channelId)) return { ok: false, problem: 'msg.payload.channelId must be a 20-digit channel ID' };
  const cause = payload.offlineCause;
  if (cause !== undefined && (typeof cause !== 'string' || !OFFLINE_CAUSES.includes(cause))) {
    return { ok: false, problem: `msg.payload.offlineCause must be one of ${OFFLINE_CAUSES.join(', ')}` };
  }
  const v = isRecord(payload.video) ? payload.video : undefined;
  const channel: ChannelMessage = {
    channelId,
    name: str(payload.name) || channelId,
    online: payload.online !== false,
    ...(str(payload.reason) ? { reason: str(payload.reason) } : {}),
    ...(typeof cause === 'string' ? { offlineCause: cause as OfflineCause } : {}),
    ...(v && str(v.codec) ? { video: { codec: str(v.codec) as string, width: num(v.width), height: num(v.height), fps: num(v.fps) } } : {}),
    ...(typeof payload.hasAudio === 'boolean' ? { hasAudio: payload.hasAudio } : {}),
    ...(str(payload.audioCodec) ? { audioCodec: str(payload.audioCodec) } : {}),
    ...(str(payload.sourceNodeId) ? { sourceNodeId: str(payload.sourceNodeId) } : {}),
    ...(str(payload.url) ? { url: str(payload.url) } : {}),
    ...(str(payload.subUrl) ? { subUrl: str(payload.subUrl) } : {}),
    ...(str(payload.manufacturer) ? { manufacturer: str(payload.manufacturer) } : {}),
    ...(str(payload.model) ? { model: str(payload.model) } : {}),
    ...(num(payload.ptzType) !== undefined ? { ptzType: num(payload.ptzType) } : {}),
  };
  return { ok: true, channel };
}

/** Reads invite/ack/bye from an untyped payload (what a sender receives). */
export function readStreamRequestMessage(payload: unknown): StreamRequestMessage | undefined {
  if (!isRecord(payload)) return undefined;
  const callId = str(payload.callId);
  const deviceNodeId = str(payload.deviceNodeId);
  const channelId = str(payload.channelId) ?? '';
  if (!callId || !deviceNodeId) return undefined;
  switch (payload.event) {
    case 'invite': {
      const transport = str(payload.transport);
      const sessionType = str(payload.sessionType);
      if (transport !== 'udp' && transport !== 'tcp-active' && transport !== 'tcp-passive') return undefined;
      if (sessionType !== 'Play' && sessionType !== 'Playback' && sessionType !== 'Download') return undefined;
      return {
        event: 'invite', callId, deviceNodeId, channelId, transport, sessionType,
        deviceId: str(payload.deviceId) ?? '',
        ...(str(payload.sourceNodeId) ? { sourceNodeId: str(payload.sourceNodeId) } : {}),
        remoteIp: str(payload.remoteIp) ?? '',
        remotePort: num(payload.remotePort) ?? 0,
        ssrc: str(payload.ssrc) ?? '',
        payloadType: num(payload.payloadType) ?? 96,
        streamNumber: num(payload.streamNumber) ?? 0,
        ...(num(payload.startTime) !== undefined ? { startTime: num(payload.startTime) } : {}),
        ...(num(payload.endTime) !== undefined ? { endTime: num(payload.endTime) } : {}),
        ...(num(payload.downloadSpeed) !== undefined ? { downloadSpeed: num(payload.downloadSpeed) } : {}),
        claimWithinMs: num(payload.claimWithinMs) ?? 5000,
      };
    }
    case 'ack':
      return { event: 'ack', callId, deviceNodeId, channelId };
    case 'bye':
      return { event: 'bye', callId, deviceNodeId, channelId, reason: str(payload.reason) ?? 'bye' };
    case 'playback-control': {
      const command = readPlaybackCommand(payload.command);
      return command ? { event: 'playback-control', callId, deviceNodeId, channelId, command } : undefined;
    }
    default:
      return undefined;
  }
}

/** A PlaybackCommand from an untyped value; undefined when it is not one. */
export function readPlaybackCommand(v: unknown): PlaybackCommand | undefined {
  if (!isRecord(v)) return undefined;
  const method = str(v.method);
  if (method !== 'PLAY' && method !== 'PAUSE' && method !== 'TEARDOWN') return undefined;
  const r = isRecord(v.range) ? v.range : undefined;
  const from = r ? (r.from === 'now' ? 'now' : num(r.from)) : undefined;
  const to = r ? num(r.to) : undefined;
  const scale = num(v.scale);
  return {
    method,
    ...(from !== undefined ? { range: { from, ...(to !== undefined ? { to } : {}) } } : {}),
    ...(scale !== undefined ? { scale } : {}),
  };
}
