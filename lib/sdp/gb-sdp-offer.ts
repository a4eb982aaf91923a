/**
 * The SDP offer of a GB28181 INVITE as WVP writes it (GB28181-2016 §9.2 and Annex F; notes
 * §1.5, §8.2, §8.3): s=Play|Playback|Download, u=, c=, t=, one m=video with RTP/AVP or
 * TCP/RTP/AVP and PS on 96, a=setup/connection for TCP (RFC 4145), a=stream* for sub streams,
 * a=downloadspeed, and the GB-specific y= (SSRC) and f= lines that generic parsers reject.
 */
import { MediaTransport, SessionType, StreamRequest } from '../session/stream-contract';
import { SdpError } from './sdp-error';

export const MAX_SDP_BYTES = 8 * 1024;

export interface GbSdpOffer {
  sessionType: SessionType;
  origin: { username: string; address?: string };
  uri?: string;
  connectionIp: string;
  mediaPort: number;
  transport: MediaTransport;
  /** Payload type carrying PS (96 in practice). */
  payloadType: number;
  /** t= values as written (Unix seconds; 0 0 for live). */
  startTime: number;
  endTime: number;
  /** y= verbatim, or undefined when absent. */
  ssrc?: string;
  /** f= verbatim, or undefined when absent. */
  f?: string;
  downloadSpeed?: number;
  streamNumber: number;
}

function malformed(message: string): SdpError {
  return new SdpError('SDP_MALFORMED', `malformed SDP: ${message}`);
}

function unsupported(message: string): SdpError {
  return new SdpError('SDP_UNSUPPORTED', message);
}

export function parseGbSdpOffer(text: string): GbSdpOffer {
  if (text.length > MAX_SDP_BYTES) throw malformed(`${text.length} bytes exceeds ${MAX_SDP_BYTES}`);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw malformed('does not start with v=0');
  let sessionName: string | undefined;
  let origin: GbSdpOffer['origin'] | undefined;
  let uri: string | undefined;
  let sessionIp: string | undefined;
  let mediaIp: string | undefined;
  let times: [number, number] | undefined;
  let media: { port: number; proto: string; formats: number[] } | undefined;
  let mediaCount = 0;
  let setup: string | undefined;
  let ssrc: string | undefined;
  let f: string | undefined;
  let downloadSpeed: number | undefined;
  let streamNumber = 0;
  const rtpmap = new Map<number, string>();
  for (const line of lines) {
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) throw malformed(`line "${line.slice(0, 40)}" is not <type>=<value>`);
    const [, type, value] = m;
    switch (type) {
      case 's':
        sessionName = value.trim();
        break;
      case 'o': {
        const o = value.split(/\s+/);
        if (o.length < 6) throw malformed('o= needs 6 fields');
        origin = { username: o[0], address: o[5] };
        break;
      }
      case 'u':
        uri = value;
        break;
      case 'c': {
        const c = /^IN\s+IP4\s+(\S+)$/i.exec(value.trim());
        if (!c) {
          if (/^IN\s+IP6/i.test(value)) throw unsupported('IPv6 media address not supported');
          throw malformed(`c= "${value.slice(0, 40)}"`);
        }
        if (media) mediaIp = c[1];
        else sessionIp = c[1];
        break;
      }
      case 't': {
        const t = /^(\d+)\s+(\d+)$/.exec(value.trim());
        if (!t) throw malformed(`t= "${value.slice(0, 40)}"`);
        times = [Number(t[1]), Number(t[2])];
        break;
      }
      case 'm': {
        mediaCount++;
        const mm = /^(\w+)\s+(\d+)(?:\/\d+)?\s+(\S+)((?:\s+\d+)*)\s*$/.exec(value);
        if (!mm) throw malformed(`m= "${value.slice(0, 60)}"`);
        if (mm[1].toLowerCase() !== 'video') {
          if (!media) continue;
          break;
        }
        const port = Number(mm[2]);
        if (port < 0 || port > 65535) throw malformed(`m= port ${port}`);
        if (!media) media = { port, proto: mm[3].toUpperCase(), formats: mm[4].trim().split(/\s+/).filter(Boolean).map(Number) };
        break;
      }
      case 'a': {
        const a = /^([\w-]+)(?::(.*))?$/.exec(value);
        if (!a) break;
        const name = a[1].toLowerCase();
        const v = (a[2] ?? '').trim();
        if (name === 'rtpmap') {
          const r = /^(\d+)\s+([^/\s]+)/.exec(v);
          if (r) rtpmap.set(Number(r[1]), r[2].toUpperCase());
        } else if (name === 'setup') setup = v.toLowerCase();
        else if (name === 'downloadspeed') {
          const n = Number(v);
          if (Number.isFinite(n) && n > 0) downloadSpeed = n;
        } else if (name === 'streamnumber' || name === 'stream' || name === 'streamprofile') streamNumber = v === '1' ? 1 : 0;
        else if (name === 'streammode') streamNumber = v.toUpperCase() === 'SUB' ? 1 : 0;
        break;
      }
      case 'y':
        if (!/^\d{1,10}$/.test(value.trim())) throw malformed(`y= "${value.slice(0, 20)}" is not an SSRC of up to 10 digits`);
        ssrc = value.trim();
        break;
      case 'f':
        f = value;
        break;
      default:
        break;
    }
  }
  if (!sessionName) throw malformed('no s= line');
  if (!origin) throw malformed('no o= line');
  if (!times) throw malformed('no t= line');
  if (!media) throw mediaCount ? unsupported('no video media in the offer') : malformed('no m= line');
  const connectionIp = mediaIp ?? sessionIp;
  if (!connectionIp) throw malformed('no c= line');
  const sessionType = (['Play', 'Playback', 'Download'] as const).find((s) => s.toLowerCase() === sessionName?.toLowerCase());
  if (!sessionType) throw unsupported(`session type s=${sessionName.slice(0, 20)} not supported`);
  let transport: MediaTransport;
  if (media.proto === 'RTP/AVP') transport = 'udp';
  else if (media.proto === 'TCP/RTP/AVP') {
    // RFC 4145: the offerer's role. WVP always writes it; an offer without it is treated as WVP's default TCP-PASSIVE.
    if (setup === 'active') transport = 'tcp-active';
    else if (setup === 'passive' || setup === undefined) transport = 'tcp-passive';
    else throw unsupported(`a=setup:${setup} not supported`);
  } else throw unsupported(`media transport ${media.proto} not supported`);
  // PS only (ZLMediaKit decodes 96 as PS, notes §2): the PT mapped to PS, else 96 if offered.
  let payloadType: number | undefined;
  for (const pt of media.formats) if (rtpmap.get(pt) === 'PS') payloadType = payloadType ?? pt;
  if (payloadType === undefined && media.formats.includes(96) && !rtpmap.has(96)) payloadType = 96;
  if (payloadType === undefined) throw unsupported(`no PS payload among m= formats ${media.formats.join(' ')}`);
  if (transport === 'udp' && media.port === 0) throw malformed('m= port 0 for UDP');
  return {
    sessionType,
    origin,
    uri,
    connectionIp,
    mediaPort: media.port,
    transport,
    payloadType,
    startTime: times[0],
    endTime: times[1],
    ssrc,
    f,
    downloadSpeed,
    streamNumber,
  };
}

/** The contract's request from an offer. `ssrc` fills in when the offer has no y=. */
export function toStreamRequest(offer: GbSdpOffer, ids: { callId: string; deviceId: string; channelId: string }, ssrc: string): StreamRequest {
  const req: StreamRequest = {
    callId: ids.callId,
    deviceId: ids.deviceId,
    channelId: ids.channelId,
    sessionType: offer.sessionType,
    transport: offer.transport,
    remoteIp: offer.connectionIp,
    remotePort: offer.mediaPort,
    ssrc,
    payloadType: offer.payloadType,
    streamNumber: offer.streamNumber,
  };
  if (offer.sessionType !== 'Play') {
    req.startTime = offer.startTime;
    req.endTime = offer.endTime;
  }
  if (offer.downloadSpeed !== undefined) req.downloadSpeed = offer.downloadSpeed;
  return req;
}
