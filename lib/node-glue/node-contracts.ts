/**
 * What one GB28181 node asks of another it finds with RED.nodes.getNode(id): typed structurally,
 * so lib/ needs no Node-RED import and the nodes agree on one definition.
 */
import { MediaSourceSpec } from '../media/media-source';
import { TranscodeOptions } from '../media/rtsp-ingest';
import { ProbeResult } from '../media/ff-probe';
import { RecordItem } from '../manscdp/record-info-response';
import { PlaybackSource } from '../record/playback-source';
import { StreamRequest } from '../session/stream-contract';
import { ChannelMessage, InviteAnswer } from './flow-messages';
import { RegisterSettings } from './node-settings';

/** wvp-register (config node). */
export interface RegisterNodeApi {
  /** The platform and local settings, with one problem line per bad property. */
  settings(): RegisterSettings;
  /** "34020000002000000001@192.168.1.10:5060" for statuses and logs. */
  label(): string;
}

/** gb28181-device, as a ps-rtp-sender answers it. */
export interface DeviceNodeApi {
  /** A sender takes the request (stops the claim bound). True for the first claimer only; false if not pending. */
  claimInvite(callId: string): boolean;
  /** A sender's answer to an INVITE: the 200 OK carries its port, or the error status. */
  answerInvite(callId: string, answer: InviteAnswer): boolean;
  /** The sender ended a session (camera gone, peer closed): the device sends BYE. */
  endSession(callId: string, reason: string): Promise<void>;
  /** Address announced in SDP and the local media port range (from the wvp-register). */
  mediaEndpoint(): { localIp: string; portRange: [number, number] } | undefined;
  /**
   * MediaStatus (NotifyType 121: end of a Playback/Download range, GB28181-2016 §9.7.3) in the
   * INVITE's dialog. Optional so older device nodes still match the interface.
   */
  mediaStatus?(callId: string, notifyType?: number): Promise<void>;
  /**
   * Called for each answered call when the device node closes (redeploy): no bye message can
   * travel then, and the sender must not keep streaming. Returns the unsubscribe function.
   */
  watchClosing(listener: (callId: string, reason: string) => void): () => void;
}

/** rtsp-source, as a ps-rtp-sender pulls its camera. */
export interface SourceNodeApi {
  /** Where MediaService pulls this camera from (URL with credentials: never log it). */
  mediaSource(streamNumber: number, transcode?: TranscodeOptions): MediaSourceSpec | undefined;
  /** The last channel message this node sent. */
  channelMessage(): ChannelMessage | undefined;
  // ---- recordings (issue #7): present on every rtsp-source; they answer "nothing" without a folder ----
  /** RecordInfo items of this channel between two instants (Unix ms), times written in `timeZone`. */
  recordQuery?(startMs: number, endMs: number, timeZone: string): Promise<RecordItem[]>;
  /** A reader for a Playback/Download INVITE; undefined when the node has no archive; GatewayError (sipStatus 400/404) otherwise. */
  openPlayback?(request: StreamRequest): PlaybackSource | undefined;
  /** RecordCmd Record/StopRecord; rejects when the channel has no recorder. */
  recordCommand?(action: 'start' | 'stop'): Promise<void>;
  /** True while the recorder writes segments. */
  isRecording?(): boolean;
  // ---- PTZ (issue #8) ----
  /** The camera's presets for PresetQuery (GB28181-2016 Annex A), bounded under 3.5 s; [] without ONVIF PTZ. */
  presets?(): Promise<{ presetId: number; name: string }[]>;
}

export function isDeviceNodeApi(n: unknown): n is DeviceNodeApi {
  return typeof n === 'object' && n !== null && typeof (n as DeviceNodeApi).answerInvite === 'function' && typeof (n as DeviceNodeApi).claimInvite === 'function' && typeof (n as DeviceNodeApi).watchClosing === 'function';
}

export function isSourceNodeApi(n: unknown): n is SourceNodeApi {
  return typeof n === 'object' && n !== null && typeof (n as SourceNodeApi).mediaSource === 'function';
}

export function isRegisterNodeApi(n: unknown): n is RegisterNodeApi {
  return typeof n === 'object' && n !== null && typeof (n as RegisterNodeApi).settings === 'function';
}

function codecLabel(codec: string): string {
  if (codec === 'H264') return 'H.264';
  if (codec === 'H265') return 'H.265';
  return codec;
}

/** "H.264 1920×1080 25 fps": what an rtsp-source shows as its status. */
export function describeProbe(p: Pick<ProbeResult, 'video'>): string {
  const v = p.video;
  if (!v) return 'no video';
  const size = v.width && v.height ? ` ${v.width}×${v.height}` : '';
  const fps = v.fps ? ` ${Math.round(v.fps * 10) / 10} fps` : '';
  return `${codecLabel(v.codec)}${size}${fps}`;
}
