/**
 * Shared pieces of the recordings end-to-end tests: a Gateway (the headless runner's class) on
 * loopback against the platform emulator, PS decoding to per-frame time codes (the fixtures of
 * test/record encode the recording's own second in the picture's grey level), and a raw MESSAGE
 * sender for query bodies the emulator does not write.
 */
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { DEFAULTS, GatewayConfig, SourceConfig, SourceRecordConfig } from '../../lib/config/gateway-config';
import { Gateway } from '../../lib/gateway/gateway';
import { Logger } from '../../lib/logger';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { InviteSession } from '../../lib/sim/platform/invite-session';
import { parseManscdp } from '../../lib/sim/platform/manscdp-body';
import { SipRequest, SipResponse, headerValue, parseSipDatagram, serializeSipMessage } from '../../lib/sim/platform/sip-text-codec';
import { decodeSecondCodes } from '../record/record-fixtures';

export const DEVICE_ID = '34020000001110000001';
export const CH1 = '34020000001320000001';
export const CH2 = '34020000001320000002';
export const CH3 = '34020000001320000003';

/** A media port range unlikely to collide with other suites running at the same time. */
export function mediaPortRange(): [number, number] {
  const base = 31000 + Math.floor(Math.random() * 28000);
  return [base, base + 40];
}

export function sourceConfig(channelId: string, url: string, recordDirs: string[], record: Partial<SourceRecordConfig> = {}): SourceConfig {
  return {
    channelId, name: `Camera ${channelId.slice(-2)}`, url, rtspTransport: 'tcp', enabled: true, recordDirs,
    record: { ...DEFAULTS.record, ...record },
    onvif: { ...DEFAULTS.onvif, enabled: false },
  };
}

export function gatewayConfig(platformPort: number, sources: SourceConfig[], extra: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    device: { id: DEVICE_ID, name: 'Recorder test', manufacturer: 'test', model: 'gateway', firmware: '1' },
    platform: {
      host: '127.0.0.1', port: platformPort, id: DEFAULTS.platformId, domain: DEFAULTS.platformDomain, transport: 'udp',
      expires: 3600, keepaliveInterval: 60, keepaliveCount: 3, charset: 'GB2312', timeZone: 'Asia/Shanghai',
    },
    local: { sipIp: '127.0.0.1', sipPort: 0, mediaIp: '127.0.0.1', mediaPortRange: mediaPortRange() },
    sources,
    catalogBatchSize: 2,
    logLevel: 'warn',
    ...extra,
  };
}

/** Starts a platform emulator (no automatic queries) and a Gateway registered with it. */
export async function startPair(sources: (port: number) => SourceConfig[], extra: Partial<GatewayConfig> = {}, logger?: Logger): Promise<{ platform: PlatformEmulator; gateway: Gateway }> {
  const platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, autoQuery: false });
  const { port } = await platform.start();
  const gateway = new Gateway(gatewayConfig(port, sources(port), extra), { probeOnStart: false, logger });
  const registered = platform.waitForRegistration(DEVICE_ID, 15_000);
  await gateway.start();
  await registered;
  return { platform, gateway };
}

/** Unix seconds of a wall-clock label in Asia/Shanghai (UTC+8, as WVP computes t=). */
export function shanghaiSec(date: string, hms: string): number {
  return Date.parse(`${date}T${hms}+08:00`) / 1000;
}

/** Decodes a PS byte stream with ffmpeg; each frame's grey level gives its second code (mod 36). */
export function decodePsCodes(ps: Buffer): Promise<{ codes: number[]; errors: string }> {
  return decodeSecondCodes(ps, 'mpeg');
}

/** Resolves with the fields of the first in-dialog MESSAGE of `cmdType` on the session. */
export function nextDialogMessage(session: InviteSession, cmdType: string, timeoutMs: number): Promise<{ fields: Record<string, string>; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { session.off('message', onMessage); reject(new Error(`no ${cmdType} in call ${session.callId} within ${timeoutMs} ms`)); }, timeoutMs);
    const onMessage = (type: string, fields: Record<string, string>): void => {
      if (type !== cmdType) return;
      clearTimeout(timer);
      session.off('message', onMessage);
      resolve({ fields, at: Date.now() });
    };
    session.on('message', onMessage);
  });
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** WVP's MANSRTSP bodies (notes §8.4): CRLF lines, a random 9-digit CSeq, no blank line. */
export function mansRtsp(lines: string[]): string {
  const cseq = 100_000_000 + Math.floor(Math.random() * 899_999_999);
  return [lines[0], `CSeq: ${cseq}`, ...lines.slice(1)].join('\r\n') + '\r\n';
}

/**
 * Sends a MANSCDP query MESSAGE with a body written verbatim (as a platform would, e.g. WVP's
 * `<Secrecy> 0 </Secrecy>`) from a socket of ours, answers the device's MESSAGEs with 200, and
 * returns the `<Response>` documents with the query's SN until `complete` says so.
 */
export async function rawQuery(devicePort: number, xml: string, sn: string, complete: (docs: { fields: Record<string, string>; items: Record<string, string>[] }[]) => boolean, timeoutMs = 8000): Promise<{ status: number; docs: { fields: Record<string, string>; items: Record<string, string>[] }[] }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const docs: { fields: Record<string, string>; items: Record<string, string>[] }[] = [];
  let status = 0;
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw query: ${docs.length} answers within ${timeoutMs} ms (status ${status})`)), timeoutMs);
      sock.on('message', (buf) => {
        const msg = parseSipDatagram(buf);
        if (msg.kind === 'response') { status = msg.status; return; }
        const ok: SipResponse = {
          kind: 'response', status: 200, reason: 'OK',
          headers: ['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((name) => ({ name, value: headerValue(msg, name) ?? '' })).map((h) => (h.name === 'To' && !/tag=/.test(h.value) ? { ...h, value: `${h.value};tag=${randomBytes(4).toString('hex')}` } : h)),
          body: Buffer.alloc(0),
        };
        sock.send(serializeSipMessage(ok), viaPort(headerValue(msg, 'Via')) || devicePort, '127.0.0.1');
        const doc = parseManscdp(msg.body.toString('latin1'));
        if (doc.sn !== sn) return;
        docs.push({ fields: doc.fields, items: doc.items });
        if (complete(docs)) { clearTimeout(timer); resolve({ status, docs }); }
      });
      const req: SipRequest = {
        kind: 'request', method: 'MESSAGE', uri: `sip:${DEVICE_ID}@127.0.0.1:${devicePort}`,
        headers: [
          { name: 'Via', value: `SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK${randomBytes(8).toString('hex')}` },
          { name: 'From', value: `<sip:${DEFAULTS.platformId}@${DEFAULTS.platformDomain}>;tag=${randomBytes(4).toString('hex')}` },
          { name: 'To', value: `<sip:${DEVICE_ID}@127.0.0.1:${devicePort}>` },
          { name: 'Call-ID', value: `${randomBytes(12).toString('hex')}@127.0.0.1` },
          { name: 'CSeq', value: '1 MESSAGE' },
          { name: 'Max-Forwards', value: '70' },
          { name: 'Content-Type', value: 'Application/MANSCDP+xml' },
        ],
        body: Buffer.from(xml, 'latin1'),
      };
      sock.send(serializeSipMessage(req), devicePort, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

function viaPort(via: string | undefined): number {
  const m = /SIP\/2\.0\/UDP [^:;]+:(\d+)/i.exec(via ?? '');
  return m ? Number(m[1]) : 0;
}
