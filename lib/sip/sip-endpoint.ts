/**
 * Our small SIP user agent core: builds requests with our Via (`;rport`, RFC 3581), Contact
 * and User-Agent; runs non-INVITE client transactions (RFC 3261 §17.1.2: UDP retransmission
 * from T1 doubling to T2, a bounded wait for the final response); absorbs retransmitted
 * requests by answering them with the response already sent (§17.2.2); sends every response
 * back where the request came from (RFC 3581 §4, which is what WVP does too).
 */
import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../logger';
import { bodyOf, encodeSipMessage, newBranch, randomToken, setBody, SipMessage } from './sip-codec';
import { SipTimeoutError } from './sip-errors';
import { RemoteEndpoint, SipProtocol, SipTransport } from './sip-transport';

const T1 = 500;
const T2 = 4000;
/** How long an answered server transaction absorbs retransmissions (RFC 3261 Timer J = 64·T1). */
const SERVER_TRANSACTION_LINGER_MS = 32_000;
const MAX_SERVER_TRANSACTIONS = 2048;

export interface SipEndpointOptions {
  protocol: SipProtocol;
  bindIp: string;
  port: number;
  /** Address announced in Via and Contact when it differs from the bind address. */
  contactIp?: string;
  userAgent?: string;
  logger?: Logger;
}

export interface IncomingRequest {
  message: SipMessage;
  remote: RemoteEndpoint;
  body: Buffer;
}

export interface ResponseExtras {
  headers?: Record<string, string>;
  body?: Buffer;
  contentType?: string;
  /** To-tag of the dialog this response belongs to; a fresh one is generated when absent (except for 100). */
  toTag?: string;
}

export interface NewRequestParams {
  method: string;
  uri: string;
  from: { uri: string; tag: string };
  to: { uri: string; tag?: string };
  callId: string;
  cseq: number;
  headers?: Record<string, string>;
  body?: Buffer;
  contentType?: string;
  /** Adds our Contact (dialog-creating or REGISTER requests). */
  contactUser?: string;
}

export interface RequestOptions {
  /** Bound on waiting for a final response (default 32 s, RFC 3261 Timer F). */
  timeoutMs?: number;
}

interface ClientTransaction {
  resolve(m: SipMessage): void;
  reject(e: Error): void;
  timers: NodeJS.Timeout[];
  provisional: boolean;
}

interface ServerTransaction {
  response?: Buffer;
  /** Last provisional response, re-sent to a retransmitted INVITE still being prepared (RFC 3261 §17.2.1). */
  provisional?: Buffer;
  remote: RemoteEndpoint;
  expires: number;
}

/** Events: 'request'(IncomingRequest), 'malformed'(reason, remote). */
export class SipEndpoint extends EventEmitter {
  private readonly opts: SipEndpointOptions;
  private readonly logger: Logger;
  private readonly transport: SipTransport;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(opts: SipEndpointOptions) {
    super();
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.transport = new SipTransport({ protocol: opts.protocol, bindIp: opts.bindIp, port: opts.port, logger: this.logger });
    this.transport.on('message', (m: SipMessage, remote: RemoteEndpoint) => this.onMessage(m, remote));
    this.transport.on('malformed', (reason: string, remote: RemoteEndpoint, replyable?: SipMessage) => this.onMalformed(reason, remote, replyable));
  }

  get protocol(): SipProtocol {
    return this.opts.protocol;
  }

  /** Rejects with SipBindError when the port cannot be bound. */
  async start(): Promise<void> {
    await this.transport.start();
    this.stopped = false;
    this.sweepTimer = setInterval(() => this.sweep(), 5000);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const [id, t] of this.clients) {
      t.timers.forEach(clearTimeout);
      t.reject(new SipTimeoutError('SIP endpoint stopped', { branch: id }));
    }
    this.clients.clear();
    this.servers.clear();
    await this.transport.close();
  }

  get localPort(): number {
    return this.transport.localPort;
  }

  /** The host we announce in Via and Contact. */
  get contactHost(): string {
    return this.opts.contactIp || this.opts.bindIp;
  }

  contactUri(user: string): string {
    return `sip:${user}@${this.contactHost}:${this.localPort}`;
  }

  newRequest(p: NewRequestParams): SipMessage {
    const headers: SipMessage['headers'] = {
      via: [{ version: '2.0', protocol: this.opts.protocol.toUpperCase(), host: this.contactHost, port: this.localPort, params: { rport: null, branch: newBranch() } }],
      from: { uri: p.from.uri, params: { tag: p.from.tag } },
      to: { uri: p.to.uri, params: p.to.tag ? { tag: p.to.tag } : {} },
      'call-id': p.callId,
      cseq: { seq: p.cseq, method: p.method },
      'max-forwards': '70',
    };
    if (p.contactUser) headers.contact = [{ uri: this.contactUri(p.contactUser), params: {} }];
    if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
    for (const [k, v] of Object.entries(p.headers ?? {})) headers[k.toLowerCase()] = v;
    const m: SipMessage = { method: p.method, uri: p.uri, version: '2.0', headers };
    setBody(m, p.body ?? Buffer.alloc(0), p.contentType);
    return m;
  }

  /**
   * Sends a request in a client transaction and resolves with its final response (provisional
   * ones are skipped). Each call is a new transaction: the message gets a fresh branch, so a
   * caller re-sending after a challenge passes a new message with a raised CSeq.
   */
  request(message: SipMessage, to: RemoteEndpoint, options: RequestOptions = {}): Promise<SipMessage> {
    const via = message.headers.via?.[0];
    if (!via) return Promise.reject(new Error('request without Via'));
    const branch = newBranch();
    // A copy with a fresh branch: the caller's message is left as it was (the sip package's send mutates it).
    const sent: SipMessage = { ...message, headers: { ...message.headers, via: [{ ...via, params: { ...via.params, branch } }, ...(message.headers.via ?? []).slice(1)] } };
    const method = message.method ?? '';
    const id = `${branch}|${method}`;
    const data = encodeSipMessage(sent);
    const callId = message.headers['call-id'];
    return new Promise<SipMessage>((resolve, reject) => {
      const t: ClientTransaction = { resolve, reject, timers: [], provisional: false };
      const finish = () => {
        t.timers.forEach(clearTimeout);
        this.clients.delete(id);
      };
      t.resolve = (m) => {
        finish();
        resolve(m);
      };
      t.reject = (e) => {
        finish();
        reject(e);
      };
      this.clients.set(id, t);
      const timeoutMs = options.timeoutMs ?? 64 * T1;
      t.timers.push(setTimeout(() => t.reject(new SipTimeoutError(`no answer to ${method} from ${to.address}:${to.port} within ${timeoutMs} ms`, { callId, peer: `${to.address}:${to.port}` })), timeoutMs));
      const send = () => {
        this.transport.send(data, to).catch((e: Error) => t.reject(e));
      };
      send();
      if (to.protocol === 'udp') {
        let interval = T1;
        const retransmit = () => {
          if (!this.clients.has(id)) return;
          send();
          interval = Math.min(interval * 2, T2);
          t.timers.push(setTimeout(retransmit, t.provisional ? T2 : interval));
        };
        t.timers.push(setTimeout(retransmit, interval));
      }
    });
  }

  /** Sends a message outside any transaction (ACK, 2xx retransmissions, our own BYE retries). */
  async sendRaw(message: SipMessage, to: RemoteEndpoint): Promise<void> {
    await this.transport.send(encodeSipMessage(message), to);
  }

  /** Builds the response to a request (RFC 3261 §8.2.6). */
  makeResponse(req: IncomingRequest, status: number, reason: string, extras: ResponseExtras = {}): SipMessage {
    const rq = req.message;
    const toParams = { ...(rq.headers.to?.params ?? {}) };
    if (status > 100 && !toParams.tag) toParams.tag = extras.toTag ?? randomToken(6);
    const via = (rq.headers.via ?? []).map((v, i) => {
      if (i !== 0) return v;
      // RFC 3581 §4: fill rport and received so the peer sees where we answered.
      const params = { ...v.params };
      if ('rport' in params) params.rport = String(req.remote.port);
      if (v.host !== req.remote.address) params.received = req.remote.address;
      return { ...v, params };
    });
    const headers: SipMessage['headers'] = {
      via,
      from: rq.headers.from,
      to: rq.headers.to ? { ...rq.headers.to, params: toParams } : undefined,
      'call-id': rq.headers['call-id'],
      cseq: rq.headers.cseq,
    };
    if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
    for (const [k, v] of Object.entries(extras.headers ?? {})) headers[k.toLowerCase()] = v;
    const m: SipMessage = { status, reason, version: '2.0', headers };
    setBody(m, extras.body ?? Buffer.alloc(0), extras.contentType);
    return m;
  }

  /** Sends a response to where the request came from and remembers it for retransmitted requests. */
  async respond(req: IncomingRequest, status: number, reason: string, extras: ResponseExtras = {}): Promise<SipMessage> {
    const response = this.makeResponse(req, status, reason, extras);
    const data = encodeSipMessage(response);
    const st = this.servers.get(serverKey(req.message));
    if (st && status >= 200) st.response = data;
    else if (st) st.provisional = data;
    if (this.stopped) return response;
    await this.transport.send(data, req.remote).catch((e: Error) => this.logger.warn(`could not send ${status} to ${req.remote.address}:${req.remote.port}: ${e.message}`));
    return response;
  }

  private onMessage(m: SipMessage, remote: RemoteEndpoint): void {
    if (m.status !== undefined) {
      const branch = m.headers.via?.[0]?.params.branch ?? '';
      const t = this.clients.get(`${branch}|${m.headers.cseq?.method ?? ''}`);
      if (!t) {
        this.logger.debug(`response ${m.status} matches no transaction`, { callId: m.headers['call-id'] });
        return;
      }
      if (m.status < 200) t.provisional = true;
      else t.resolve(m);
      return;
    }
    if (m.method !== 'ACK') {
      const key = serverKey(m);
      const st = this.servers.get(key);
      if (st) {
        const again = st.response ?? st.provisional;
        if (again) this.transport.send(again, remote).catch(() => undefined);
        return;
      }
      if (this.servers.size >= MAX_SERVER_TRANSACTIONS) this.sweep(true);
      this.servers.set(key, { remote, expires: Date.now() + SERVER_TRANSACTION_LINGER_MS });
    }
    this.emit('request', { message: m, remote, body: bodyOf(m) } satisfies IncomingRequest);
  }

  private onMalformed(reason: string, remote: RemoteEndpoint, replyable?: SipMessage): void {
    this.emit('malformed', reason, remote);
    if (!replyable || replyable.method === 'ACK') return;
    // RFC 3261 §21.4.1: a request we can address but not accept gets 400 with the reason.
    const req: IncomingRequest = { message: replyable, remote, body: Buffer.alloc(0) };
    void this.respond(req, 400, `Bad Request (${reason.replace(/[\r\n]/g, ' ').slice(0, 80)})`);
  }

  private sweep(force = false): void {
    const now = Date.now();
    for (const [k, st] of this.servers) {
      if (st.expires < now || (force && st.response)) this.servers.delete(k);
    }
  }
}

function serverKey(m: SipMessage): string {
  const branch = m.headers.via?.[0]?.params.branch ?? '';
  return `${branch}|${m.headers['call-id'] ?? ''}|${m.headers.cseq?.seq ?? ''}|${m.method ?? ''}`;
}
