/**
 * Where RTP packets go. Named from the platform's side (lib/session/stream-contract.ts):
 *  - `udp`: datagrams from the port we announced to the offer's address/port;
 *  - `tcp-active`: the platform connects to us, so we listen before the 200 OK (notes §1.6);
 *  - `tcp-passive`: the platform listens, we connect to the offer's address/port.
 * On TCP every packet carries the RFC 4571 2-byte length. A slow TCP peer is detected through the
 * socket's writableLength so the session can drop frames instead of buffering without bound.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { MediaTransport } from '../session/stream-contract';
import { RtpFrame } from './rtp-packetizer';

export interface RtpTransportEvents {
  /** The path to the platform is open (UDP at once on open(), TCP on connection). */
  connected: [];
  /** The path is gone for good (peer closed, connect failed). */
  closed: [reason: string];
}

export interface RtpTransport extends EventEmitter<RtpTransportEvents> {
  readonly kind: MediaTransport;
  readonly localPort: number;
  readonly connected: boolean;
  /** Bytes accepted but not yet handed to the kernel (always 0 on UDP). */
  readonly backlog: number;
  /** Starts sending (UDP) or connecting (tcp-passive); tcp-active already listens. */
  open(): void;
  send(frame: RtpFrame): void;
  close(): void;
}

export class UdpRtpTransport extends EventEmitter<RtpTransportEvents> implements RtpTransport {
  readonly kind = 'udp' as const;
  readonly localPort: number;
  connected = false;
  readonly backlog = 0;
  private closed = false;

  constructor(private readonly socket: dgram.Socket, private readonly remoteIp: string, private readonly remotePort: number) {
    super();
    this.localPort = socket.address().port;
    socket.on('error', () => undefined); // e.g. ICMP unreachable: UDP carries on
    socket.on('message', () => undefined); // RTCP from the platform is not needed
  }

  open(): void {
    if (this.closed || this.connected) return;
    this.connected = true;
    this.emit('connected');
  }

  send(frame: RtpFrame): void {
    if (!this.connected || this.closed) return;
    for (const p of frame.packets) this.socket.send(p, this.remotePort, this.remoteIp);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    try { this.socket.close(); } catch { /* already closed */ }
  }
}

abstract class TcpRtpTransport extends EventEmitter<RtpTransportEvents> {
  protected socket: net.Socket | undefined;
  protected closed = false;

  get connected(): boolean {
    return !!this.socket && !this.socket.destroyed && !this.socket.connecting;
  }

  get backlog(): number {
    return this.socket ? this.socket.writableLength : 0;
  }

  send(frame: RtpFrame): void {
    if (this.connected && this.socket) this.socket.write(frame.framed);
  }

  protected attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', () => undefined); // RTCP or nothing: ignored
    socket.on('error', () => undefined); // followed by 'close'
    socket.on('close', () => { if (!this.closed) this.finish('the platform closed the media connection'); });
  }

  protected finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.emit('closed', reason);
  }
}

export class TcpActiveRtpTransport extends TcpRtpTransport implements RtpTransport {
  readonly kind = 'tcp-active' as const;
  readonly localPort: number;

  /** `server` is already listening on the announced port. */
  constructor(private readonly server: net.Server) {
    super();
    this.localPort = (server.address() as net.AddressInfo).port;
    server.on('connection', (socket) => {
      if (this.socket || this.closed) { socket.destroy(); return; }
      this.attach(socket);
      server.close(); // one platform connection per session
      this.emit('connected');
    });
    server.on('error', () => undefined);
  }

  open(): void {
    // Listening since construction; the platform connects when it likes.
  }

  close(): void {
    this.closed = true;
    this.server.close();
    this.socket?.destroy();
  }
}

export class TcpPassiveRtpTransport extends TcpRtpTransport implements RtpTransport {
  readonly kind = 'tcp-passive' as const;
  private opened = false;

  constructor(readonly localPort: number, private readonly remoteIp: string, private readonly remotePort: number, private readonly bindIp?: string) {
    super();
  }

  open(): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    this.connect(true);
  }

  private connect(fromAnnouncedPort: boolean): void {
    const socket = net.connect({
      host: this.remoteIp,
      port: this.remotePort,
      ...(fromAnnouncedPort ? { localPort: this.localPort, ...(this.bindIp ? { localAddress: this.bindIp } : {}) } : {}),
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      if (this.closed) return;
      if (fromAnnouncedPort && err.code === 'EADDRINUSE') { this.connect(false); return; }
      this.finish(`cannot connect to the platform at ${this.remoteIp}:${this.remotePort}: ${err.code ?? err.message}`);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (this.closed) { socket.destroy(); return; }
      this.attach(socket);
      this.emit('connected');
    });
    this.socket = socket;
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }
}
