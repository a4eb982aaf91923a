/**
 * Why a channel is offline (catalog OFF / VLOST / DEFECT, GB28181-2016 A.2.4): the probe-error rule
 * and the RTSP OPTIONS check against real sockets on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { GatewayError } from '../../lib/errors';
import { offlineCauseOfFeedLoss, offlineCauseOfProbeFailure } from '../../lib/gateway/offline-cause';
import { IngestError } from '../../lib/media/ingest-error';

describe('offline cause of a channel (catalog OFF / VLOST / DEFECT)', function () {
  this.timeout(10_000);
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();

  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  function listen(onData: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.once('data', () => onData(socket));
    });
    servers.push(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  }

  it('a failed probe is DEFECT for refused credentials, a missing path or an unsupported codec; unreachable otherwise', () => {
    for (const code of ['RTSP_UNAUTHORIZED', 'RTSP_NOT_FOUND', 'RTSP_UNSUPPORTED_CODEC'] as const) {
      assert.equal(offlineCauseOfProbeFailure(new IngestError(code, 'x')), 'defect', code);
    }
    for (const code of ['RTSP_REFUSED', 'RTSP_TIMEOUT', 'RTSP_UNREACHABLE', 'RTSP_FAILED', 'RTSP_STALLED'] as const) {
      assert.equal(offlineCauseOfProbeFailure(new IngestError(code, 'x')), 'unreachable', code);
    }
    assert.equal(offlineCauseOfProbeFailure(new GatewayError('RTSP_UNAUTHORIZED', 'x')), 'defect');
    assert.equal(offlineCauseOfProbeFailure(new Error('RTSP_UNAUTHORIZED')), 'unreachable', 'a plain Error carries no code');
    assert.equal(offlineCauseOfProbeFailure('boom'), 'unreachable');
  });

  it('a lost feed whose camera answers OPTIONS (even 401) is video-lost; refused or silent is unreachable, within the bound', async () => {
    const answering = await listen((s) => s.write('RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\r\n'));
    assert.equal(await offlineCauseOfFeedLoss(`rtsp://user:secret@127.0.0.1:${answering}/live`), 'video-lost');
    const silent = await listen(() => undefined);
    const started = Date.now();
    assert.equal(await offlineCauseOfFeedLoss(`rtsp://127.0.0.1:${silent}/live`, 500), 'unreachable');
    assert.ok(Date.now() - started < 2000, 'bounded by the timeout');
    // A port that was just free: nothing listens there.
    const probe = net.createServer();
    const closedPort = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)));
    await new Promise<void>((r) => probe.close(() => r()));
    assert.equal(await offlineCauseOfFeedLoss(`rtsp://127.0.0.1:${closedPort}/live`), 'unreachable');
    assert.equal(await offlineCauseOfFeedLoss('http://127.0.0.1/'), 'unreachable', 'not an RTSP URL');
  });
});
