/**
 * SDP as WVP-GB28181-pro writes it in its INVITEs (SIPCommander#playStreamCmd / playbackStreamCmd /
 * downloadStreamCmd) and the checks its side applies to the device's answer (SipUtils#parseSDP strips
 * y=/f= and hands the rest to JAIN-SIP's SDP parser; InviteResponseProcessor takes the ACK user from o=).
 */

export type MediaTransportMode = 'udp' | 'tcp-passive' | 'tcp-active';
export type InviteSessionType = 'Play' | 'Playback' | 'Download';

export interface WvpOfferParams {
  /** o= username: WVP writes the server ID for live view and the channel for history (see notes §8.2). */
  originUser: string;
  channelId: string;
  sdpIp: string;
  mediaPort: number;
  transport: MediaTransportMode;
  sessionType: InviteSessionType;
  ssrc: string;
  startTime?: number;
  endTime?: number;
  downloadSpeed?: number;
  streamNumber?: 0 | 1;
}

/** The offer, line by line, CRLF-terminated. */
export function buildWvpOffer(p: WvpOfferParams): string {
  const history = p.sessionType !== 'Play';
  const lines = ['v=0', `o=${p.originUser} 0 0 IN IP4 ${p.sdpIp}`, `s=${p.sessionType}`];
  if (history) lines.push(`u=${p.channelId}:0`);
  lines.push(`c=IN IP4 ${p.sdpIp}`);
  lines.push(history ? `t=${p.startTime ?? 0} ${p.endTime ?? 0}` : 't=0 0');
  lines.push(`m=video ${p.mediaPort} ${p.transport === 'udp' ? 'RTP/AVP' : 'TCP/RTP/AVP'} 96 97 98 99`);
  lines.push('a=recvonly', 'a=rtpmap:96 PS/90000', 'a=rtpmap:98 H264/90000', 'a=rtpmap:97 MPEG4/90000', 'a=rtpmap:99 H265/90000');
  if (p.transport === 'tcp-passive') lines.push('a=setup:passive', 'a=connection:new');
  if (p.transport === 'tcp-active') lines.push('a=setup:active', 'a=connection:new');
  if (!history && p.streamNumber !== undefined) lines.push(`a=stream:${p.streamNumber}`);
  if (p.sessionType === 'Download') lines.push(`a=downloadspeed:${p.downloadSpeed ?? 4}`);
  lines.push(`y=${p.ssrc}`);
  return lines.join('\r\n') + '\r\n';
}

export interface ParsedAnswer {
  originUser?: string;
  connectionIp?: string;
  mediaPort?: number;
  mediaProto?: string;
  formats: string[];
  setup?: string;
  direction?: string;
  ssrc?: string;
  /** Deviations from what JAIN-SIP's parser and WVP accept; empty when the answer is clean. */
  problems: string[];
}

const JAIN_LINE_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);

/** Parses the 200's SDP and lists what a strict WVP would trip on. */
export function parseAnswerSdp(sdp: string, offer: { transport: MediaTransportMode; ssrc: string }): ParsedAnswer {
  const problems: string[] = [];
  const out: ParsedAnswer = { formats: [], problems };
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (!sdp.includes('\r\n')) problems.push('lines not terminated by CRLF');
  const seen = new Set<string>();
  let inMedia = false;
  for (const line of lines) {
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) {
      problems.push(`not a <type>=<value> line: ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    const [, type, value] = m;
    seen.add(type);
    if (type === 'y') {
      out.ssrc = value.trim();
      continue;
    }
    if (type === 'f') continue;
    if (!JAIN_LINE_TYPES.has(type)) problems.push(`unknown SDP line type ${type}=`);
    if (type === 'o') {
      const f = value.trim().split(/\s+/);
      if (f.length !== 6) problems.push(`o= has ${f.length} fields, JAIN-SIP needs 6`);
      out.originUser = f[0];
    } else if (type === 'c') {
      const f = value.trim().split(/\s+/);
      if (f.length !== 3 || f[0] !== 'IN' || !/^IP[46]$/.test(f[1])) problems.push(`bad c= line: ${value}`);
      if (!inMedia || out.connectionIp === undefined) out.connectionIp = f[2];
    } else if (type === 'm') {
      inMedia = true;
      const f = value.trim().split(/\s+/);
      if (f.length < 4) problems.push(`m= has ${f.length} fields, needs at least 4`);
      if (out.mediaPort === undefined) {
        out.mediaPort = Number(f[1]);
        out.mediaProto = f[2];
        out.formats = f.slice(3);
        if (!Number.isInteger(out.mediaPort) || out.mediaPort <= 0 || out.mediaPort > 65535) problems.push(`bad m= port ${f[1]}`);
      }
    } else if (type === 'a') {
      const setup = /^setup:(\S+)/.exec(value);
      if (setup) out.setup = setup[1];
      if (/^(sendonly|recvonly|sendrecv|inactive)$/.test(value.trim())) out.direction = value.trim();
    }
  }
  if (lines[0] && !lines[0].startsWith('v=')) problems.push('first line is not v=');
  for (const required of ['v', 'o', 's', 't', 'm']) if (!seen.has(required)) problems.push(`missing ${required}= line`);
  if (out.connectionIp === undefined) problems.push('missing c= line');
  if (out.mediaProto !== undefined) {
    const wantTcp = offer.transport !== 'udp';
    if (wantTcp !== /^TCP\//i.test(out.mediaProto)) problems.push(`m= protocol ${out.mediaProto} does not match the ${offer.transport} offer`);
  }
  if (!out.formats.includes('96')) problems.push('m= formats do not include 96 (WVP looks for PS on 96)');
  if (offer.transport === 'tcp-passive' && out.setup !== 'active') problems.push(`answer to a passive offer should be a=setup:active, got ${out.setup ?? 'none'}`);
  if (offer.transport === 'tcp-active' && out.setup !== 'passive') problems.push(`answer to an active offer should be a=setup:passive, got ${out.setup ?? 'none'}`);
  if (out.direction !== 'sendonly') problems.push(`direction should be a=sendonly, got ${out.direction ?? 'none'}`);
  if (out.ssrc === undefined) problems.push('missing y= (WVP assumes its own SSRC)');
  else if (out.ssrc !== offer.ssrc) problems.push(`y=${out.ssrc} is not the offered y=${offer.ssrc} verbatim`);
  return out;
}
