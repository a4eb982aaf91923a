/**
 * Why a channel is offline (catalog OFF / VLOST / DEFECT, GB28181-2016 A.2.4): the probe-error rule
 * and the RTSP OPTIONS check against real sockets on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { GatewayError } from '../../lib/errors';
import { SourceConfig } from '../../lib/config/gateway-config';
import { ChannelDirectory, ProbedStream } from '../../lib/gateway/channel-directory';
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

  it('the runner\'s channel directory: a probe refused 401 is DEFECT, a lost feed takes the cause it is given, back online drops it', async () => {
    const id = '34020000001320000001';
    const source = { channelId: id, name: 'Gate', url: 'rtsp://127.0.0.1:1/x', rtspTransport: 'tcp', enabled: true, recordDirs: [] } as unknown as SourceConfig;
    let answer: () => ProbedStream = () => {
      throw new IngestError('RTSP_UNAUTHORIZED', '401');
    };
    const dir = new ChannelDirectory([source], { prober: () => Promise.resolve().then(() => answer()) });
    const probed = await dir.probeChannel(id);
    assert.equal(probed?.online, false);
    assert.equal(probed?.offlineCause, 'defect');
    answer = () => ({ hasAudio: false, video: { codec: 'H264' } });
    const back = await dir.probeChannel(id);
    assert.equal(back?.online, true);
    assert.equal(back?.offlineCause, undefined, 'no cause while online');
    const key = `${id}/main`;
    assert.deepEqual(dir.applyFeedState(key, 'offline', 'RTSP_STALLED', 'video-lost').map((d) => [d.online, d.offlineCause]), [[false, 'video-lost']]);
    assert.deepEqual(dir.applyFeedState(key, 'offline', 'RTSP_STALLED', 'video-lost'), [], 'same cause: no change');
    assert.deepEqual(dir.setSourceState(key, false, 'no RTSP answer', 'unreachable').map((d) => d.offlineCause), ['unreachable'], 'a new cause while offline is a change');
    assert.deepEqual(dir.applyFeedState(key, 'offline', 'stopped', 'defect'), [], 'a feed closed for lack of viewers says nothing');
    assert.deepEqual(dir.applyFeedState(`${id}/sub`, 'offline', 'x', 'defect'), [], 'the sub-stream does not decide');
    assert.deepEqual(dir.applyFeedState(key, 'online').map((d) => [d.online, d.offlineCause]), [[true, undefined]]);
  });
});
