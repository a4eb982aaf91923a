/**
 * The platform side for tests, written independently of lib/sip and lib/manscdp (own parsing,
 * own digest, raw text on dgram/net sockets) so that a bug on the device side cannot hide
 * behind the same bug here.
 */
import { createHash } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export interface RawMessage {
  startLine: string;
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  headers: Map<string, string[]>;
  body: Buffer;
  from: { address: string; port: number; tcp?: net.Socket };
  raw: Buffer;
  /** Date.now() when the platform received it. */
  receivedAt?: number;
}

export function header(m: RawMessage, name: string): string | undefined {
  return m.headers.get(name.toLowerCase())?.[0];
}

const COMPACT: Record<string, string> = { i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', f: 'from', t: 'to', v: 'via' };

export function parseRaw(buf: Buffer, from: RawMessage['from']): RawMessage | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    let name = line.slice(0, i).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const list = headers.get(name) ?? [];
    list.push(line.slice(i + 1).trim());
    headers.set(name, list);
  }
  const len = Number(headers.get('content-length')?.[0] ?? '0');
  const body = buf.subarray(end + 4, end + 4 + len);
  const m: RawMessage = { startLine: lines[0], headers, body, from, raw: buf };
  const s = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(lines[0]);
  if (s) {
    m.status = Number(s[1]);
    m.reason = s[2];
  } else {
    const r = /^(\S+) (\S+) SIP\/2\.0$/.exec(lines[0]);
    if (!r) return undefined;
    m.method = r[1];
    m.uri = r[2];
  }
  return m;
}

export function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** Parses `Digest a="b", c=d` into a record, quotes removed. */
export function digestParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)=("([^"]*)"|[^,\s]+)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) out[m[1].toLowerCase()] = m[3] ?? m[2];
  return out;
}

export interface RegistrarOptions {
  password?: string;
  realm?: string;
  qop?: boolean;
  /** Date header value of the 200. */
  date?: string;
  /** Answer nothing at all (a dead platform). */
  silent?: boolean;
  /** Status for the MESSAGEs (keepalives) from the device, default 200. */
  messageStatus?: number;
}

export class RawSipPlatform {
  readonly id: string;
  readonly domain = '3402000000';
  udp?: dgram.Socket;
  tcp?: net.Server;
  port = 0;
  readonly received: RawMessage[] = [];
  private waiters: Array<{ pred: (m: RawMessage) => boolean; resolve: (m: RawMessage) => void }> = [];
  private tcpSockets = new Set<net.Socket>();
  registrar?: RegistrarOptions;
  registered = false;
  autoAnswerMessages = true;
  /** Status the platform answers the device's NOTIFYs with (0: no answer). */
  notifyStatus = 200;
  /** Per-NOTIFY override of notifyStatus (0: no answer). */
  notifyAnswer?: (m: RawMessage) => number;
  private tagSeq = 0;
  private cseq = 100;

  constructor(readonly host = '127.0.0.1', id = '34020000002000000001') {
    this.id = id;
  }

  async start(port = 0, tcp = false): Promise<void> {
    if (tcp) {
      this.tcp = net.createServer((s) => this.adopt(s));
      await new Promise<void>((resolve, reject) => {
        this.tcp?.once('error', reject);
        this.tcp?.listen(port, this.host, () => resolve());
      });
      this.port = (this.tcp.address() as net.AddressInfo).port;
      return;
    }
    const udp = dgram.createSocket('udp4');
    this.udp = udp;
    udp.on('message', (buf, rinfo) => {
      const m = parseRaw(buf, { address: rinfo.address, port: rinfo.port });
      if (m) this.onMessage(m);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.host, () => resolve());
    });
    this.port = udp.address().port;
  }

  adopt(s: net.Socket): void {
    this.tcpSockets.add(s);
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const cl = /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(head);
        const total = end + 4 + (cl ? Number(cl[1]) : 0);
        if (buf.length < total) return;
        const one = buf.subarray(0, total);
        buf = buf.subarray(total);
        const m = parseRaw(one, { address: s.remoteAddress ?? '', port: s.remotePort ?? 0, tcp: s });
        if (m) this.onMessage(m);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => this.tcpSockets.delete(s));
  }

  async close(): Promise<void> {
    for (const s of this.tcpSockets) s.destroy();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    const tcp = this.tcp;
    this.tcp = undefined;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private onMessage(m: RawMessage): void {
    m.receivedAt = Date.now();
    this.received.push(m);
    const w = this.waiters.find((x) => x.pred(m));
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(m);
    }
    if (m.method === 'REGISTER' && this.registrar) this.answerRegister(m);
    else if (m.method === 'MESSAGE' && this.autoAnswerMessages && this.registrar && !this.registrar.silent) {
      this.reply(m, this.registrar.messageStatus ?? 200, 'OK');
    } else if (m.method === 'NOTIFY') {
      const status = this.notifyAnswer ? this.notifyAnswer(m) : this.notifyStatus;
      if (status > 0) this.reply(m, status, status === 200 ? 'OK' : 'Refused');
    }
  }

  /** Resolves with the first already-received or future message matching; rejects after timeoutMs. */
  waitFor(pred: (m: RawMessage) => boolean, timeoutMs = 3000, since = 0): Promise<RawMessage> {
    const found = this.received.slice(since).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const entry = { pred, resolve: (m: RawMessage) => { clearTimeout(t); resolve(m); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== entry);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a message`));
      }, timeoutMs);
      this.waiters.push(entry);
    });
  }

  /** Waits for the next message (received after now) matching. */
  next(pred: (m: RawMessage) => boolean, timeoutMs = 3000): Promise<RawMessage> {
    return this.waitFor(pred, timeoutMs, this.received.length);
  }

  answerRegister(m: RawMessage): void {
    const r = this.registrar as RegistrarOptions;
    if (r.silent) return;
    const realm = r.realm ?? this.domain;
    const auth = header(m, 'authorization');
    if (r.password !== undefined && !auth) {
      const nonce = md5(String(Math.random()));
      const qop = r.qop === false ? '' : ', qop="auth"';
      this.reply(m, 401, 'Unauthorized', [`WWW-Authenticate: Digest realm="${realm}"${qop}, nonce="${nonce}", algorithm=MD5`]);
      return;
    }
    if (r.password !== undefined && auth) {
      const p = digestParams(auth.replace(/^Digest\s+/i, ''));
      const ha1 = md5(`${p.username}:${realm}:${r.password}`);
      const ha2 = md5(`REGISTER:${p.uri}`);
      const expected = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
      if (expected !== p.response) {
        this.reply(m, 403, 'wrong password');
        return;
      }
    }
    const expires = header(m, 'expires') ?? '3600';
    this.registered = expires !== '0';
    const extra = [`Expires: ${expires}`];
    const contact = header(m, 'contact');
    if (contact) extra.push(`Contact: ${contact}`);
    if (r.date) extra.push(`Date: ${r.date}`);
    this.reply(m, 200, 'OK', extra);
  }

  /** Answers a request: Via, From, To (+tag), Call-ID, CSeq copied. */
  reply(m: RawMessage, status: number, reason: string, extra: string[] = [], body?: Buffer, contentType?: string): void {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const v of m.headers.get('via') ?? []) lines.push(`Via: ${v}`);
    lines.push(`From: ${header(m, 'from')}`);
    const to = header(m, 'to') ?? '';
    lines.push(`To: ${/;tag=/.test(to) ? to : `${to};tag=p${++this.tagSeq}`}`);
    lines.push(`Call-ID: ${header(m, 'call-id')}`, `CSeq: ${header(m, 'cseq')}`);
    lines.push(...extra);
    if (contentType) lines.push(`Content-Type: ${contentType}`);
    lines.push(`Content-Length: ${body?.length ?? 0}`, '', '');
    const data = Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body ?? Buffer.alloc(0)]);
    this.sendTo(data, m.from);
  }

  sendTo(data: Buffer, to: { address: string; port: number; tcp?: net.Socket }): void {
    if (to.tcp) to.tcp.write(data);
    else this.udp?.send(data, to.port, to.address);
  }

  /** Builds a request as WVP would. */
  request(method: string, uri: string, opts: { callId?: string; cseq?: number; fromUser?: string; fromTag?: string; toUri?: string; toTag?: string; contentType?: string; body?: Buffer; extra?: string[]; branch?: string; transport?: string } = {}): { data: Buffer; callId: string; branch: string; fromTag: string } {
    const callId = opts.callId ?? `${md5(String(Math.random())).slice(0, 16)}@${this.host}`;
    const branch = opts.branch ?? `z9hG4bK${md5(String(Math.random())).slice(0, 12)}`;
    const fromTag = opts.fromTag ?? `f${md5(String(Math.random())).slice(0, 8)}`;
    const body = opts.body ?? Buffer.alloc(0);
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/${opts.transport ?? 'UDP'} ${this.host}:${this.port};rport;branch=${branch}`,
      `From: <sip:${opts.fromUser ?? this.id}@${this.domain}>;tag=${fromTag}`,
      `To: <${opts.toUri ?? uri}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${opts.cseq ?? ++this.cseq} ${method}`,
      'Max-Forwards: 70',
      `Contact: <sip:${this.id}@${this.host}:${this.port}>`,
      ...(opts.extra ?? []),
    ];
    if (opts.contentType) lines.push(`Content-Type: ${opts.contentType}`);
    lines.push(`Content-Length: ${body.length}`, '', '');
    return { data: Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]), callId, branch, fromTag };
  }
}

/** A GB2312/GBK/UTF-8 MANSCDP query as WVP writes it. */
export function manscdpQuery(cmdType: string, sn: number, deviceId: string, extra = ''): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n${extra}</Query>\r\n`, 'latin1');
}

/** Text of the first <tag>…</tag> in an XML string (test-side, naive on purpose). */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? m[1].trim() : undefined;
}

export function xmlAll(xml: string, tag: string): string[] {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g');
  const out: string[] = [];
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push(m[1].trim());
  return out;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
