/**
 * The emulator's SIP socket: one UDP socket, or one TCP listener plus the connections devices open,
 * sending and receiving on the same endpoint as WVP does (answers go back where requests came from).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../../logger';
import { GatewayError } from '../../errors';
import { parseSipDatagram, serializeSipMessage, SipMessage, SipStreamFramer } from './sip-text-codec';

export type SipTransportKind = 'udp' | 'tcp';

export interface SipPeer {
  address: string;
  port: number;
}

export interface PlatformSipTransportEvents {
  message: [msg: SipMessage, source: SipPeer];
}

export class PlatformSipTransport extends EventEmitter<PlatformSipTransportEvents> {
  private udp?: dgram.Socket;
  private server?: net.Server;
  private readonly connections = new Map<string, net.Socket>();
  private boundPort = 0;

  constructor(
    readonly kind: SipTransportKind,
    private readonly host: string,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
  }

  get port(): number {
    return this.boundPort;
  }

  async start(port: number): Promise<number> {
    if (this.kind === 'udp') {
      const sock = dgram.createSocket('udp4');
      this.udp = sock;
      sock.on('message', (buf, rinfo) => this.onDatagram(buf, { address: rinfo.address, port: rinfo.port }));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, this.host, () => {
          sock.off('error', reject);
          sock.on('error', (e) => this.logger.warn('platform udp socket error', { error: e.message }));
          resolve();
        });
      }).catch((e: unknown) => {
        throw new GatewayError('PLATFORM_BIND', `cannot bind udp ${this.host}:${port}: ${String(e)}`, { peer: `${this.host}:${port}` });
      });
      this.boundPort = sock.address().port;
    } else {
      const server = net.createServer((s) => this.adopt(s));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.host, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch((e: unknown) => {
        throw new GatewayError('PLATFORM_BIND', `cannot listen tcp ${this.host}:${port}: ${String(e)}`, { peer: `${this.host}:${port}` });
      });
      const addr = server.address();
      this.boundPort = typeof addr === 'object' && addr ? addr.port : port;
    }
    return this.boundPort;
  }

  private onDatagram(buf: Buffer, source: SipPeer): void {
    if (buf.length <= 4 && buf.toString('latin1').trim() === '') return; // CRLF keep-alive
    try {
      this.emit('message', parseSipDatagram(buf), source);
    } catch (e) {
      this.logger.warn('platform dropped a malformed datagram', { peer: `${source.address}:${source.port}`, error: String(e) });
    }
  }

  private adopt(sock: net.Socket): void {
    const key = `${sock.remoteAddress ?? ''}:${sock.remotePort ?? 0}`;
    const source: SipPeer = { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    this.connections.set(key, sock);
    const framer = new SipStreamFramer();
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const msg of framer.push(chunk)) this.emit('message', msg, source);
      } catch (e) {
        this.logger.warn('platform closes a tcp connection with malformed SIP', { peer: key, error: String(e) });
        sock.destroy();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (this.connections.get(key) === sock) this.connections.delete(key);
    });
  }

  /** Sends to a peer; on TCP reuses the peer's connection or opens one. */
  async send(msg: SipMessage, to: SipPeer): Promise<void> {
    const bytes = serializeSipMessage(msg);
    if (this.kind === 'udp') {
      const sock = this.udp;
      if (!sock) throw new GatewayError('PLATFORM_STOPPED', 'platform transport is not started');
      await new Promise<void>((resolve, reject) => sock.send(bytes, to.port, to.address, (e) => (e ? reject(e) : resolve())));
      return;
    }
    const key = `${to.address}:${to.port}`;
    let sock = this.connections.get(key);
    if (!sock || sock.destroyed) {
      const opened = net.connect({ host: to.address, port: to.port });
      await new Promise<void>((resolve, reject) => {
        opened.once('connect', resolve);
        opened.once('error', reject);
      }).catch((e: unknown) => {
        throw new GatewayError('PLATFORM_CONNECT', `cannot connect tcp ${key}: ${String(e)}`, { peer: key });
      });
      this.adopt(opened);
      sock = opened;
    }
    const target = sock;
    await new Promise<void>((resolve, reject) => target.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  async stop(): Promise<void> {
    for (const s of this.connections.values()) s.destroy();
    this.connections.clear();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
