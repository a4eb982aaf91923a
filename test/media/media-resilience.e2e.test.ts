/**
 * Camera restarts, sharing one ingest between sessions, GOP cache start, and a TCP peer that stops
 * reading: all with GStreamer's RTSP server, real ffmpeg and sockets on 127.0.0.1.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { MediaService } from '../../lib/media/media-service';
import { SourceState, SourceStats } from '../../lib/media/media-source';
import { GstCamera, freeTcpPort } from './gst-camera';
import { randomPortRange, streamRequest } from './media-session-runner';
import { PsDecodeCheck, checkRtpRules, readPsm } from './ps-capture-check';
import { RtpTestReceiver } from './rtp-test-receiver';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** ffmpeg processes started by this process that pull `url` (other suites may run encoders too). */
function ffmpegChildren(url: string): number {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter(([pid, comm]) => {
    if (comm !== 'ffmpeg') return false;
    try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(url); } catch { return false; }
  }).length;
}

describe('media resilience (GStreamer RTSP, real ffmpeg, loopback sockets)', function () {
  this.timeout(60000);
  const decode = new PsDecodeCheck();
  const cleanups: Array<() => Promise<void> | void> = [];
  after(() => decode.cleanup());
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });

  it('camera killed mid-stream and restarted: the same session resumes, decodes again, sequence numbers continue', async () => {
    const port = await freeTcpPort();
    let camera = await GstCamera.start('h264', 'none', port);
    cleanups.push(() => camera.stop());
    const service = new MediaService({
      localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(), stallTimeoutMs: 2000, backoffMinMs: 300, backoffMaxMs: 2000,
      resolveSource: () => ({ key: 'restart-cam', url: camera.url, displayUrl: camera.url, rtspTransport: 'tcp' }),
    });
    cleanups.push(() => service.close());
    const states: SourceState[] = [];
    service.on('source-state', (_k, s) => states.push(s));
    const ended: string[] = [];
    service.on('session-ended', (id) => ended.push(id));
    const rx = new RtpTestReceiver();
    cleanups.push(() => rx.close());
    await rx.listenUdp();
    const req = streamRequest('udp', rx.port);
    await service.prepare(req, new AbortController().signal);
    service.start(req.callId);
    await rx.waitFor(() => rx.packets.length > 50, 8000, 'packets before the restart');
    await sleep(1000);
    await camera.stop();
    const killedAt = rx.packets.length;
    await sleep(1500);
    camera = new GstCamera(port, 'h264', 'none');
    await camera.start();
    await rx.waitFor(() => rx.packets.length > killedAt + 50, 20000, 'packets after the restart');
    await sleep(1500);
    service.stop(req.callId, 'test done');

    assert.deepEqual(ended, [], 'the session survived');
    assert.ok(states.includes('offline') && states.lastIndexOf('online') > states.indexOf('offline'), `states ${states.join(',')}`);
    assert.ok((service.feed('restart-cam')?.stats().reconnects ?? 0) >= 1);
    // Whole capture: one SSRC, no sequence gap, timestamps never go back, marker rules hold.
    checkRtpRules(rx.packets, 100000001, 1400, 25);
    // After the restart the first pack is a keyframe with PSM, and the rest decodes cleanly.
    let resume = killedAt;
    while (resume < rx.packets.length && rx.packets[resume].payload.indexOf(Buffer.from([0, 0, 1, 0xbc])) < 0) resume++;
    const after = Buffer.concat(rx.packets.slice(resume).map((p) => p.payload));
    assert.ok(after.length > 0);
    const file = decode.write('after-restart.ps', after);
    const report = await decode.probe(file);
    assert.equal(report.videoCodec, 'h264');
    assert.ok(report.videoFrames >= 25, `only ${report.videoFrames} frames after the restart`);
    assert.equal(await decode.decodeErrors('/usr/bin/ffmpeg', file, '0:v'), '');
  });

  it('two sessions on one camera share one ffmpeg; a session joining a warm camera starts at once with a keyframe', async () => {
    const camera = await GstCamera.start('h264', 'pcma');
    cleanups.push(() => camera.stop());
    const service = new MediaService({
      localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(),
      resolveSource: () => ({ key: 'shared-cam', url: camera.url, displayUrl: camera.url, rtspTransport: 'tcp' }),
    });
    cleanups.push(() => service.close());
    const a = new RtpTestReceiver();
    const b = new RtpTestReceiver();
    cleanups.push(() => a.close(), () => b.close());
    await a.listenUdp();
    await b.listenTcp();
    const reqA = streamRequest('udp', a.port);
    await service.prepare(reqA, new AbortController().signal);
    service.start(reqA.callId);
    await a.waitFor(() => a.packets.length > 0, 8000, 'first session packets');
    await sleep(1500);
    const reqB = streamRequest('tcp-passive', b.port, { ssrc: '0100000002' });
    await service.prepare(reqB, new AbortController().signal);
    const startedAt = Date.now();
    service.start(reqB.callId);
    await b.waitFor(() => b.packets.length > 0, 2000, 'second session first packet');
    const firstPacketMs = b.packets[0].at - startedAt;
    await sleep(2500);
    assert.equal(ffmpegChildren(camera.url), 1, 'one ffmpeg process for two sessions');
    assert.equal(service.sessionStats().every((s) => s.packets > 0 && s.droppedFrames === 0), true);
    const stats = service.sessionStats();
    assert.equal(stats.length, 2);
    service.stop(reqA.callId, 'done');
    service.stop(reqB.callId, 'done');

    assert.ok(firstPacketMs < 200, `first packet ${firstPacketMs} ms after start on a warm camera`);
    assert.ok(b.packets[0].payload.indexOf(Buffer.from([0, 0, 1, 0xbc])) > 0, 'first pack carries the PSM (keyframe)');
    checkRtpRules(a.packets, 100000001, 1400, 25);
    checkRtpRules(b.packets, 100000002, 1400, 25);
    for (const [name, rx] of [['a', a], ['b', b]] as const) {
      const ps = rx.psStream();
      assert.deepEqual(readPsm(ps), [{ streamType: 0x1b, streamId: 0xe0 }, { streamType: 0x90, streamId: 0xc0 }]);
      const file = decode.write(`shared-${name}.ps`, ps);
      const report = await decode.probe(file);
      assert.equal(report.videoCodec, 'h264');
      assert.ok(report.videoFrames > 40, `session ${name}: ${report.videoFrames} frames`);
      assert.equal(await decode.decodeErrors('/usr/bin/ffmpeg', file, '0:v', true), '');
    }
  });

  it('camera gone for good: stats report the feed, the session ends (→ BYE), close() leaves no ffmpeg behind', async () => {
    const camera = await GstCamera.start('h264', 'none');
    cleanups.push(() => camera.stop());
    const service = new MediaService({
      localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(), stallTimeoutMs: 1000, offlineEndMs: 1500, statsIntervalMs: 1000,
      resolveSource: () => ({ key: 'gone-cam', url: camera.url, displayUrl: camera.url, rtspTransport: 'tcp' }),
    });
    cleanups.push(() => service.close());
    const stats: SourceStats[] = [];
    service.on('stats', (s) => stats.push(s));
    const ended: Array<[string, string]> = [];
    service.on('session-ended', (id, reason) => ended.push([id, reason]));
    const rx = new RtpTestReceiver();
    cleanups.push(() => rx.close());
    await rx.listenUdp();
    const req = streamRequest('udp', rx.port);
    await service.prepare(req, new AbortController().signal);
    service.start(req.callId);
    await rx.waitFor(() => stats.some((s) => s.state === 'online' && s.frames > 25), 10000, 'stats while online');
    const online = stats.filter((s) => s.state === 'online').pop() as SourceStats;
    assert.ok(online.fps > 15 && online.fps < 35, `fps ${online.fps}`);
    assert.ok(online.bitrate > 0 && online.lastFrameAgeMs < 500);
    assert.equal(online.videoCodec, 'h264');
    assert.equal(online.width, 320);
    await camera.stop();
    await rx.waitFor(() => ended.length > 0, 10000, 'session-ended');
    assert.equal(ended[0][0], req.callId);
    assert.match(ended[0][1], /camera offline/);
    assert.equal(service.sessionStats().length, 0);
    await service.close();
    await rx.waitFor(() => ffmpegChildren(camera.url) === 0, 2000, 'no ffmpeg left');
  });

  it('a TCP receiver that stops reading: backlog stays bounded, whole frames are dropped and counted, sending resumes at a keyframe', async () => {
    const port = await freeTcpPort();
    const camera = new GstCamera(port, 'h264', 'none', [640, 480], 25, 6000, 'snow');
    await camera.start();
    cleanups.push(() => camera.stop());
    const highWater = 256 * 1024;
    const service = new MediaService({
      localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(), highWaterBytes: highWater, lowWaterBytes: 64 * 1024,
      resolveSource: () => ({ key: 'fast-cam', url: camera.url, displayUrl: camera.url, rtspTransport: 'tcp' }),
    });
    cleanups.push(() => service.close());
    const rx = new RtpTestReceiver();
    cleanups.push(() => rx.close());
    const req = streamRequest('tcp-active', 0);
    const answer = await service.prepare(req, new AbortController().signal);
    await rx.connectTcp(answer.localPort, { paused: true });
    service.start(req.callId);
    const session = service.session(req.callId);
    assert.ok(session);
    let maxBacklog = 0;
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    const end = Date.now() + 12000;
    while (Date.now() < end && session.stats().droppedFrames < 25) {
      maxBacklog = Math.max(maxBacklog, session.transport.backlog);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      await sleep(50);
    }
    const dropped = session.stats().droppedFrames;
    assert.ok(dropped >= 25, `only ${dropped} frames dropped`);
    // One frame may be accepted just under the mark: bound = high water + largest frame.
    assert.ok(maxBacklog <= highWater + 512 * 1024, `backlog reached ${maxBacklog}`);
    assert.ok(maxRss - rss0 < 64 * 1024 * 1024, `RSS grew ${(maxRss - rss0) >> 20} MiB`);
    rx.resume();
    const before = rx.packets.length;
    await rx.waitFor(() => rx.packets.length > before + 200, 10000, 'packets after the receiver resumed');
    await sleep(1000);
    service.stop(req.callId, 'done');
    assert.equal(service.sessionStats().length, 0);
    // Dropped frames take no sequence numbers: the receiver sees no gap.
    checkRtpRules(rx.packets, 100000001, 1400, 25);
  });
});
