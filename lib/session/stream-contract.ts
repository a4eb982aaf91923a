/**
 * The contract between signalling (lib/sip, lib/device) and media (lib/media): what an INVITE
 * asks for, what the media side answers, and how either side ends a session. Both the headless
 * runner and the Node-RED nodes join the two halves through these types only.
 */
export type SessionType = 'Play' | 'Playback' | 'Download';

/**
 * Named as WVP names them, from the platform's side (notes §1.5):
 * - `udp`: RTP/AVP, we send datagrams to the offer's c=/m=.
 * - `tcp-passive`: the platform listens (offer a=setup:passive); we connect to c=/m=.
 * - `tcp-active`: the platform connects (offer a=setup:active); we listen before the 200 OK.
 */
export type MediaTransport = 'udp' | 'tcp-active' | 'tcp-passive';

export interface StreamRequest {
  callId: string;
  deviceId: string;
  channelId: string;
  sessionType: SessionType;
  transport: MediaTransport;
  /** Offer's c= address and m= port. For tcp-active these are informational only. */
  remoteIp: string;
  remotePort: number;
  /** The y= value verbatim (10 digits, leading 0 kept); the RTP SSRC is its decimal value. */
  ssrc: string;
  payloadType: number;
  /** Playback/Download range from t=, Unix seconds. */
  startTime?: number;
  endTime?: number;
  /** a=downloadspeed for Download sessions. */
  downloadSpeed?: number;
  /** 0 = main stream, 1 = sub stream (a=streamnumber / a=stream / streamprofile / streamMode). */
  streamNumber: number;
}

export interface StreamAnswer {
  /** Address announced in the answer's c= line. */
  localIp: string;
  /** Port announced in the answer's m= line (our UDP source port, our TCP listen or source port). */
  localPort: number;
}

/** What the signalling layer calls on the media layer. */
export interface StreamHandler {
  /** Before the 200 OK: bind/listen and get ready. Rejects with a GatewayError carrying a SIP status hint. */
  prepare(request: StreamRequest, signal: AbortSignal): Promise<StreamAnswer>;
  /** On ACK: start sending. */
  start(callId: string): void;
  /** On BYE, CANCEL or failure: stop sending and free everything for this call. */
  stop(callId: string, reason: string): void;
}

/** A channel as the catalog and queries see it (GB28181-2016 Annex A.2.1 catalog item fields). */
export interface ChannelDescriptor {
  id: string;
  name: string;
  online: boolean;
  manufacturer?: string;
  model?: string;
  address?: string;
  /** Info.PTZType: 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled fixed (GB28181-2016 A.2.1). */
  ptzType?: number;
  hasAudio?: boolean;
  video?: { codec: 'H264' | 'H265' | string; width?: number; height?: number; fps?: number };
  longitude?: number;
  latitude?: number;
  /**
   * Why an offline channel is offline, for the catalog event subscribers get (GB28181-2016 A.2.4
   * catalog events): `unreachable` → OFF, `video-lost` (the camera answers but sends no video) →
   * VLOST, `defect` (the camera answers but refuses us: credentials, path, codec) → DEFECT.
   * Undefined means OFF. Ignored while online.
   */
  offlineCause?: 'unreachable' | 'video-lost' | 'defect';
}
