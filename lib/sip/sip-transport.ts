/**
 * The socket side of our SIP stack: one UDP socket, or one TCP listener plus the connections
 * to and from peers, that both sends and receives (WVP answers to the packet's source and Via
 * rport, GB28181 notes §1.1). Inbound bytes are framed and decoded behind guards so that no
 * malformed input can throw out of a socket callback.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { Logger, silentLogger } from '../logger';
import { decodeSipMessage, DecodeResult, MAX_SIP_MESSAGE_BYTES } from './sip-codec';
import { SipBindError, SipTransportError } from './sip-errors';
import { SipFramingError, TcpSipFramer } from './tcp-sip-framer';

export type SipProtocol = 'udp' | 'tcp';

export interface RemoteEndpoint {
  address: string;
  port: number;
  protocol: SipProtocol;
}

export interface SipTransportOptions {
  protocol: SipProtocol;
  bindIp: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger?: Logger;
  /** TCP connect bound. */
  connectTimeoutMs?: number;
}

/**
 * Events: 'message'(message: SipMessage, remote: RemoteEndpoint),
 * 'malformed'(reason: string, remote: RemoteEndpoint, replyable?: SipMessage).
 */
export class SipTransport extends EventEmitter {
  readonly protocol: SipProtocol;
  private readonly opts: SipTransportOptions;
  private readonly logger: Logger;
  private udp?: dgram.Socket;
  private server?: net.Server;
  private readonly connections = new Map<string, net.Socket>();
  private readonly pending = new Map<string, Promise<net.Socket>>();
  private boundPort = 0;
  private closed = false;

  constructor(opts: SipTransportOptions) {
    super();
    this.opts = opts;
    this.protocol = opts.protocol;
    this.logger = opts.logger ?? silentLogger;
  }

  get localPort(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    this.closed = false;
    const ctx = { peer: `${this.opts.bindIp}:${this.opts.port}`, protocol: this.protocol };
    try {
      if (this.protocol === 'udp') await this.startUdp();
      else await this.startTcp();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EADDRNOTAVAIL' ? 'is not a local address' : code === 'EACCES' ? 'needs privileges' : `failed (${(e as Error).message})`;
      throw new SipBindError(`SIP ${this.protocol.toUpperCase()} port ${this.opts.bindIp}:${this.opts.port} ${why}`, { ...ctx, errno: code }, e);
    }
  }

  private startUdp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: net.isIPv6(this.opts.bindIp) ? 'udp6' : 'udp4' });
      const onBindError = (e: Error) => {
        socket.close();
        reject(e);
      };
      socket.once('error', onBindError);
      socket.bind(this.opts.port, this.opts.bindIp, () => {
        socket.off('error', onBindError);
        // After bind, socket errors (e.g. ICMP-driven) are logged, never thrown.
        socket.on('error', (e) => this.logger.warn(`SIP UDP socket error: ${e.message}`));
        socket.on('message', (data, rinfo) => {
          this.deliver(() => decodeSipMessage(data), { address: rinfo.address, port: rinfo.port, protocol: 'udp' });
        });
        this.udp = socket;
        this.boundPort = socket.address().port;
        resolve();
      });
    });
  }

  private startTcp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.adopt(socket));
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(this.opts.port, this.opts.bindIp, () => {
        server.off('error', onError);
        server.on('error', (e) => this.logger.warn(`SIP TCP listener error: ${e.message}`));
        this.server = server;
        this.boundPort = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Frames and decodes one TCP connection; a framing error closes it (the stream cannot be resynchronized). */
  private adopt(socket: net.Socket): string {
    const remote: RemoteEndpoint = { address: normalizeIp(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0, protocol: 'tcp' };
    const key = endpointKey(remote);
    this.connections.set(key, socket);
    const framer = new TcpSipFramer(MAX_SIP_MESSAGE_BYTES);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch (e) {
        const reason = e instanceof SipFramingError ? e.message : String(e);
        this.logger.warn(`SIP TCP framing error from ${key}: ${reason}; closing the connection`, { peer: key });
        this.emit('malformed', reason, remote);
        socket.destroy();
        return;
      }
      for (const m of messages) this.deliver(() => decodeSipMessage(m, true), remote);
    });
    socket.on('error', (e) => this.logger.debug(`SIP TCP connection ${key}: ${e.message}`, { peer: key }));
    socket.on('close', () => {
      if (this.connections.get(key) === socket) this.connections.delete(key);
    });
    return key;
  }

  private deliver(decode: () => DecodeResult, remote: RemoteEndpoint): void {
    if (this.closed) return;
    let result: DecodeResult;
    try {
      result = decode();
    } catch (e) {
      result = { ok: false, reason: `decoder failure: ${(e as Error).message}` };
    }
    try {
      if (result.ok) this.emit('message', result.message, remote);
      else {
        this.logger.debug(`dropped malformed SIP from ${remote.address}:${remote.port}: ${result.reason}`, { peer: `${remote.address}:${remote.port}` });
        this.emit('malformed', result.reason, remote, result.replyable);
      }
    } catch (e) {
      // A handler bug must not take the process down through a socket callback.
      this.logger.error(`SIP handler failed: ${(e as Error).stack ?? String(e)}`);
    }
  }

  async send(data: Buffer, to: RemoteEndpoint): Promise<void> {
    if (this.closed) throw new SipTransportError('SIP transport is closed', { peer: `${to.address}:${to.port}` });
    if (this.protocol === 'udp') {
      const udp = this.udp;
      if (!udp) throw new SipTransportError('SIP transport not started', {});
      await new Promise<void>((resolve, reject) => {
        udp.send(data, to.port, to.address, (e) => (e ? reject(new SipTransportError(`UDP send to ${to.address}:${to.port} failed: ${e.message}`, { peer: `${to.address}:${to.port}` }, e)) : resolve()));
      });
      return;
    }
    const socket = await this.connection(to);
    await new Promise<void>((resolve, reject) => {
      socket.write(data, (e) => (e ? reject(new SipTransportError(`TCP send to ${to.address}:${to.port} failed: ${e.message}`, { peer: `${to.address}:${to.port}` }, e)) : resolve()));
    });
  }

  /** An open connection to the peer (inbound or outbound), else a new one. */
  private connection(to: RemoteEndpoint): Promise<net.Socket> {
    const key = endpointKey(to);
    const existing = this.connections.get(key);
    if (existing && !existing.destroyed) return Promise.resolve(existing);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const p = new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: to.address, port: to.port, localAddress: isWildcardIp(this.opts.bindIp) ? undefined : this.opts.bindIp });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SipTransportError(`TCP connect to ${key} timed out`, { peer: key }));
      }, this.opts.connectTimeoutMs ?? 3000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        if (this.closed) {
          socket.destroy();
          reject(new SipTransportError('SIP transport is closed', { peer: key }));
          return;
        }
        this.adopt(socket);
        // Keyed by where we connected to, so the next send to the same target reuses it.
        this.connections.set(key, socket);
        socket.on('close', () => {
          if (this.connections.get(key) === socket) this.connections.delete(key);
        });
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new SipTransportError(`TCP connect to ${key} failed: ${e.message}`, { peer: key }, e));
      });
    });
    this.pending.set(key, p);
    const clear = () => this.pending.delete(key);
    p.then(clear, clear);
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.connections.values()) s.destroy();
    this.connections.clear();
    const udp = this.udp;
    const server = this.server;
    this.udp = undefined;
    this.server = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function endpointKey(e: { address: string; port: number }): string {
  return `${e.address}:${e.port}`;
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function isWildcardIp(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '';
}
