/**
 * The SDP answer of our 200 OK (notes §1.6, as WVP writes it when it acts as a device):
 * o= with our device ID (WVP takes the ACK's Request-URI user from it), c= and m= with our
 * address and port, PS on 96, sendonly, for TCP the inverted RFC 4145 setup role and
 * a=connection:new, y= echoed verbatim (leading 0 kept) and an empty f=.
 */
import { MediaTransport, SessionType } from '../session/stream-contract';

export interface GbSdpAnswerParams {
  deviceId: string;
  ip: string;
  port: number;
  sessionType: SessionType;
  transport: MediaTransport;
  payloadType?: number;
  /** t= of the offer (0 0 for live). */
  startTime?: number;
  endTime?: number;
  ssrc: string;
}

export function buildGbSdpAnswer(p: GbSdpAnswerParams): string {
  const pt = p.payloadType ?? 96;
  const lines = [
    'v=0',
    `o=${p.deviceId} 0 0 IN IP4 ${p.ip}`,
    `s=${p.sessionType}`,
    `c=IN IP4 ${p.ip}`,
    `t=${p.startTime ?? 0} ${p.endTime ?? 0}`,
  ];
  if (p.transport === 'udp') lines.push(`m=video ${p.port} RTP/AVP ${pt}`);
  else {
    lines.push(`m=video ${p.port} TCP/RTP/AVP ${pt}`);
    // Offer passive (the platform listens) → we are active, and the other way round.
    lines.push(p.transport === 'tcp-passive' ? 'a=setup:active' : 'a=setup:passive', 'a=connection:new');
  }
  lines.push('a=sendonly', `a=rtpmap:${pt} PS/90000`, `y=${p.ssrc}`, 'f=');
  return lines.join('\r\n') + '\r\n';
}
