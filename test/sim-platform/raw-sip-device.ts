/**
 * A minimal GB28181 device written with raw dgram and string templates, independent of both the
 * emulator's codec and the device side, so the emulator is checked against hand-written wire text.
 */
import dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import { PlatformEmulator, PlatformEmulatorOptions } from '../../lib/sim/platform/platform-emulator';

export interface RawSip {
  text: string;
  startLine: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export function parseRaw(buf: Buffer): RawSip {
  const sep = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, sep).toString('utf8');
  const [startLine, ...lines] = head.split('\r\n');
  const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]);
  return { text: buf.toString('utf8'), startLine, headers, body: buf.subarray(sep + 4) };
}

export function hdr(msg: RawSip, name: string): string | undefined {
  return msg.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export class RawSipDevice {
  readonly deviceId: string;
  private sock = dgram.createSocket('udp4');
  private inbox: RawSip[] = [];
  private waiters: Array<{ match: (m: RawSip) => boolean; resolve: (m: RawSip) => void }> = [];
  port = 0;

  constructor(deviceId: string, private readonly platformPort: number) {
    this.deviceId = deviceId;
    this.sock.on('message', (buf) => {
      const msg = parseRaw(buf);
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg);
      else this.inbox.push(msg);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.sock.bind(0, '127.0.0.1', () => resolve()));
    this.port = this.sock.address().port;
  }

  close(): void {
    this.sock.close();
  }

  send(text: string | Buffer): void {
    this.sock.send(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, this.platformPort, '127.0.0.1');
  }

  next(match: (m: RawSip) => boolean = () => true, timeoutMs = 3000): Promise<RawSip> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: RawSip) => { clearTimeout(timer); resolve(m); } };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`fake device ${this.deviceId}: nothing matching within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Next request of a method. */
  request(method: string, timeoutMs = 3000): Promise<RawSip> {
    return this.next((m) => m.startLine.startsWith(`${method} `), timeoutMs);
  }

  /** Next response whose CSeq names `method`. */
  response(method: string, timeoutMs = 3000): Promise<RawSip> {
    return this.next((m) => m.startLine.startsWith('SIP/2.0') && (hdr(m, 'CSeq') ?? '').endsWith(method), timeoutMs);
  }

  via(branch = `z9hG4bK${randomBytes(6).toString('hex')}`): string {
    return `SIP/2.0/UDP 127.0.0.1:${this.port};rport;branch=${branch}`;
  }

  register(o: { callId: string; cseq: number; expires?: number; authorization?: string; deviceId?: string; compact?: boolean }): void {
    const id = o.deviceId ?? this.deviceId;
    const lines = [
      `REGISTER sip:34020000002000000001@3402000000 SIP/2.0`,
      `${o.compact ? 'v' : 'Via'}: ${this.via()}`,
      `${o.compact ? 'f' : 'From'}: <sip:${id}@3402000000>;tag=${randomBytes(4).toString('hex')}`,
      `${o.compact ? 't' : 'To'}: <sip:${id}@3402000000>`,
      `${o.compact ? 'i' : 'Call-ID'}: ${o.callId}`,
      `CSeq: ${o.cseq} REGISTER`,
      `${o.compact ? 'm' : 'Contact'}: <sip:${id}@127.0.0.1:${this.port}>`,
      'Max-Forwards: 70',
    ];
    if (o.authorization) lines.push(`Authorization: ${o.authorization}`);
    if (o.expires !== undefined) lines.push(`Expires: ${o.expires}`);
    lines.push(`${o.compact ? 'l' : 'Content-Length'}: 0`);
    this.send(lines.join('\r\n') + '\r\n\r\n');
  }

  /** Digest answer to a `WWW-Authenticate`, computed here (RFC 2617 §3.2.2). */
  authorization(challenge: string, password: string, deviceId = this.deviceId): string {
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const qop = /qop="([^"]+)"/.exec(challenge)?.[1];
    const uri = 'sip:34020000002000000001@3402000000';
    const ha1 = md5(`${deviceId}:${realm}:${password}`);
    const ha2 = md5(`REGISTER:${uri}`);
    if (qop) {
      const cnonce = randomBytes(4).toString('hex');
      const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
      return `Digest username="${deviceId}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", qop=auth, nc=00000001`;
    }
    const response = md5(`${ha1}:${nonce}:${ha2}`);
    return `Digest username="${deviceId}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
  }

  /** Full register with an optional challenge round; returns the final response. */
  async registerFully(password: string | undefined, callId = randomBytes(8).toString('hex'), expires = 3600): Promise<RawSip> {
    this.register({ callId, cseq: 1, expires });
    const first = await this.response('REGISTER');
    if (!first.startLine.startsWith('SIP/2.0 401')) return first;
    this.register({ callId, cseq: 2, expires, authorization: this.authorization(hdr(first, 'WWW-Authenticate') ?? '', password ?? '') });
    return this.response('REGISTER');
  }

  /** Answers a request with the dialog headers copied (a To tag added). */
  reply(req: RawSip, status: number, reason: string, extra: string[] = [], body: Buffer = Buffer.alloc(0)): void {
    const to = hdr(req, 'To') ?? '';
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const [n, v] of req.headers) if (n.toLowerCase() === 'via') lines.push(`Via: ${v}`);
    lines.push(`From: ${hdr(req, 'From')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=dev${status}`}`, `Call-ID: ${hdr(req, 'Call-ID')}`, `CSeq: ${hdr(req, 'CSeq')}`, ...extra, `Content-Length: ${body.length}`);
    this.send(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]));
  }

  /** A MANSCDP MESSAGE from the device, body encoded in GB2312 and Content-Length in bytes. */
  message(xml: string, o: { callId?: string; charset?: string } = {}): void {
    const body = iconv.encode(xml, o.charset ?? 'gb2312');
    const lines = [
      `MESSAGE sip:34020000002000000001@3402000000 SIP/2.0`,
      `Via: ${this.via()}`,
      `From: <sip:${this.deviceId}@3402000000>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:34020000002000000001@3402000000>`,
      `Call-ID: ${o.callId ?? randomBytes(8).toString('hex')}`,
      `CSeq: 20 MESSAGE`,
      'Content-Type: Application/MANSCDP+xml',
      'Max-Forwards: 70',
      `Content-Length: ${body.length}`,
    ];
    this.send(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]));
  }

  /**
   * A NOTIFY from the device inside a subscription dialog (RFC 6665 §4.2.2): the SUBSCRIBE's Call-ID,
   * the platform's From tag as To tag, the device's own tag as From tag; body in GB2312.
   */
  notify(xml: string, o: { callId: string; platformTag: string; deviceTag: string; event: string; subscriptionState?: string; cseq?: number; deviceId?: string }): void {
    const body = iconv.encode(xml, 'gb2312');
    const lines = [
      `NOTIFY sip:34020000002000000001@127.0.0.1 SIP/2.0`,
      `Via: ${this.via()}`,
      `From: <sip:${o.deviceId ?? this.deviceId}@3402000000>;tag=${o.deviceTag}`,
      `To: <sip:34020000002000000001@3402000000>;tag=${o.platformTag}`,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq ?? 1} NOTIFY`,
      `Event: ${o.event}`,
      `Subscription-State: ${o.subscriptionState ?? 'active;expires=3600'}`,
      'Content-Type: Application/MANSCDP+xml',
      'Max-Forwards: 70',
      `Content-Length: ${body.length}`,
    ];
    this.send(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]));
  }
}

/**
 * A started platform emulator and a raw device registered with it (no challenge), for the tests
 * that start from a registered device; `prepare` runs before the device registers.
 */
export async function startRegisteredRawDevice(deviceId: string, options: PlatformEmulatorOptions = {}, prepare?: (platform: PlatformEmulator) => void): Promise<{ platform: PlatformEmulator; device: RawSipDevice }> {
  const platform = new PlatformEmulator({ autoQuery: false, ...options });
  prepare?.(platform);
  await platform.start();
  const device = new RawSipDevice(deviceId, platform.port);
  await device.start();
  await device.registerFully(undefined);
  return { platform, device };
}
