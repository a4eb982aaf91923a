/**
 * Hands out local media ports from the configured range: binds a UDP socket or opens a TCP
 * listener on the first free port after the last one handed out (round robin, so a port just
 * released is not reused at once while the platform may still send to it).
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { GatewayError } from '../errors';

export class MediaPortRange {
  private cursor: number;

  constructor(readonly low: number, readonly high: number, private readonly bindIp = '0.0.0.0') {
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
      throw new GatewayError('CONFIG_INVALID', `media port range [${low}, ${high}] is not a valid range of ports`);
    }
    this.cursor = low;
  }

  private *candidates(): Generator<number> {
    const size = this.high - this.low + 1;
    for (let i = 0; i < size; i++) {
      const port = this.low + ((this.cursor - this.low + i) % size);
      yield port;
    }
  }

  private advance(port: number): void {
    this.cursor = port + 1 > this.high ? this.low : port + 1;
  }

  private exhausted(kind: string): GatewayError {
    return new GatewayError('MEDIA_PORTS_EXHAUSTED', `no free ${kind} port in the media port range ${this.low}-${this.high}`, { sipStatus: 503 });
  }

  async bindUdp(): Promise<dgram.Socket> {
    for (const port of this.candidates()) {
      const socket = dgram.createSocket('udp4');
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, this.bindIp, () => resolve(true));
      });
      if (ok) { this.advance(port); return socket; }
      socket.close();
    }
    throw this.exhausted('UDP');
  }

  async listenTcp(): Promise<net.Server> {
    for (const port of this.candidates()) {
      const server = net.createServer();
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ port, host: this.bindIp, exclusive: true }, () => resolve(true));
      });
      if (ok) { this.advance(port); return server; }
      server.close();
    }
    throw this.exhausted('TCP');
  }

  /** A TCP port that is free now, for an outgoing connection's source port. */
  async reserveTcpSourcePort(): Promise<number> {
    const server = await this.listenTcp();
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
}
