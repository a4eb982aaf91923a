/**
 * The RTSP OPTIONS liveness check against real sockets on 127.0.0.1: a simulated camera, small raw
 * servers that answer 401, garbage, nothing, or cut the connection, and a closed port.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { checkRtspLiveness, rtspTarget } from '../../lib/media/rtsp-liveness';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { freePort } from '../support/free-port';

interface RawServer {
  port: number;
  requests: string[];
  open(): number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that hands each connection and its first bytes to `onRequest`. */
async function rawServer(onRequest: (socket: net.Socket, text: string) => void): Promise<RawServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      requests.push(text);
      onRequest(socket, text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RTSP liveness check (OPTIONS, RFC 2326 §10.1)', function () {
  this.timeout(15_000);
  const servers: RawServer[] = [];
  let camera: SimulatedCamera | undefined;

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await camera?.stop();
    camera = undefined;
  });

  it('a simulated camera answers 200: alive', async () => {
    camera = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264' }] });
    await camera.start();
    const r = await checkRtspLiveness(camera.url('/h264'));
    assert.equal(r.alive, true);
    assert.ok(r.alive && r.status === 200);
    assert.equal(camera.stats().describes, 0, 'no DESCRIBE: nothing is pulled');
  });

  it('401 is alive; the request carries CSeq and User-Agent and no credentials; the socket is closed after', async () => {
    const srv = await rawServer((s) => s.write('RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n'));
    servers.push(srv);
    const r = await checkRtspLiveness(`rtsp://admin:s3cret@127.0.0.1:${srv.port}/Streaming/Channels/101`);
    assert.ok(r.alive, JSON.stringify(r));
    assert.equal(r.alive && r.status, 401);
    const req = srv.requests[0];
    assert.match(req, new RegExp(`^OPTIONS rtsp://127\\.0\\.0\\.1:${srv.port}/Streaming/Channels/101 RTSP/1\\.0\\r\\n`));
    assert.match(req, /\r\nCSeq: 1\r\n/);
    assert.match(req, /\r\nUser-Agent: [^\r]+\r\n/);
    assert.doesNotMatch(req, /s3cret|admin|Authorization/i, 'no credentials on the wire');
    await waitUntil(() => srv.open() === 0, 2000);
  });

  it('a status line split over several packets is still read', async () => {
    const srv = await rawServer((s) => {
      s.write('RTS');
      setTimeout(() => s.write('P/1.0 200 OK\r\nCSeq: 1\r\n\r\n'), 50);
    });
    servers.push(srv);
    const r = await checkRtspLiveness(`rtsp://127.0.0.1:${srv.port}/x`);
    assert.ok(r.alive && r.status === 200, JSON.stringify(r));
  });

  it('a closed port: dead, refused', async () => {
    const port = await freePort();
    const r = await checkRtspLiveness(`rtsp://127.0.0.1:${port}/x`);
    assert.equal(r.alive, false);
    assert.equal(!r.alive && r.reason, 'refused');
  });

  it('a server that accepts and never answers: dead, timeout, within the bound', async () => {
    const srv = await rawServer(() => undefined);
    servers.push(srv);
    const started = Date.now();
    const r = await checkRtspLiveness(`rtsp://127.0.0.1:${srv.port}/x`, { timeoutMs: 400 });
    const took = Date.now() - started;
    assert.equal(!r.alive && r.reason, 'timeout');
    assert.ok(took >= 380 && took < 1500, `took ${took} ms for a 400 ms bound`);
    await waitUntil(() => srv.open() === 0, 2000);
  });

  it('an answer that is not RTSP: dead, garbage (and the default bound is 3 s, not hit)', async () => {
    const srv = await rawServer((s) => s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    servers.push(srv);
    const started = Date.now();
    const r = await checkRtspLiveness(`rtsp://127.0.0.1:${srv.port}/x`);
    assert.equal(!r.alive && r.reason, 'garbage');
    assert.ok(Date.now() - started < 1000, 'judged at the first bytes');
  });

  it('binary noise: dead, garbage', async () => {
    const srv = await rawServer((s) => s.write(Buffer.from([0x00, 0xff, 0x13, 0x37])));
    servers.push(srv);
    const r = await checkRtspLiveness(`rtsp://127.0.0.1:${srv.port}/x`);
    assert.equal(!r.alive && r.reason, 'garbage');
  });

  it('a connection cut without an answer: dead, reset or closed', async () => {
    const srv = await rawServer((s) => s.resetAndDestroy());
    servers.push(srv);
    const r = await checkRtspLiveness(`rtsp://127.0.0.1:${srv.port}/x`);
    assert.equal(r.alive, false);
    assert.ok(!r.alive && (r.reason === 'reset' || r.reason === 'closed'), JSON.stringify(r));
  });

  it('a URL that is not rtsp://: dead, bad-url, with the password masked', async () => {
    const r = await checkRtspLiveness('http://admin:s3cret@127.0.0.1/x');
    assert.equal(!r.alive && r.reason, 'bad-url');
    assert.ok(!r.alive && !r.detail.includes('s3cret'));
    assert.deepEqual(rtspTarget('rtsp://u:p@127.0.0.1/a'), { host: '127.0.0.1', port: 554, uri: 'rtsp://127.0.0.1/a' });
  });
});
