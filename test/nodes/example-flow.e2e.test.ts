/**
 * Example flow (1), examples/two-cameras.json, in the Node-RED runtime of the test helper against a
 * simulated RTSP camera and the platform emulator (127.0.0.1 only): it registers, the catalog lists
 * both channels, INVITEs over UDP and TCP bring MPEG-PS that ffprobe decodes, BYE ends the ffmpeg
 * ingest, and a camera killed and revived comes back through the health loop (health-monitor →
 * reconnect → rtsp-source → device catalog).
 */
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeInitializer } from 'node-red';
import { locateFfTool } from '../../lib/media/ffmpeg-path';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { PROJECT_ROOT } from '../support/node-red-process';
import { ffChildren, nodeHelper, nodeInitializers, waitFor, waitForStatus } from './node-test-support';

const helper = nodeHelper();
const DEVICE_ID = '34020000001180000001';
const CH1 = '34020000001320000001';
const CH2 = '34020000001320000002';

type FlowItem = { id: string; type: string; wires?: string[][] } & Record<string, unknown>;

function probeCodec(file: string): string {
  const ffprobe = locateFfTool('ffprobe');
  const out = execFileSync(ffprobe.path, ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });
  const streams = (JSON.parse(out) as { streams: Array<{ codec_type: string; codec_name: string }> }).streams;
  return streams.find((s) => s.codec_type === 'video')?.codec_name ?? 'none';
}

describe('example flows end to end', function () {
  this.timeout(120000);
  let camera: SimulatedCamera;
  let platform: PlatformEmulator;
  let inits: NodeInitializer[];
  let tmp: string;

  before(async () => {
    inits = nodeInitializers();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-nodes-e2e-'));
    camera = new SimulatedCamera({ host: '127.0.0.1', port: 0, streams: [
      { path: '/h264', video: 'h264', width: 320, height: 240, fps: 25, gop: 25 },
      { path: '/h265-pcma', video: 'h265', audio: 'pcma', width: 320, height: 240, fps: 25, gop: 25 },
    ] });
    await camera.start();
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: 'e2e-secret', autoQuery: false, mediaPortRange: [35000, 35099] });
    await platform.start();
  });

  after(async () => {
    await helper.unload();
    await platform.stop();
    await camera.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('registers, lists both channels, streams over UDP and TCP, and heals a killed camera through the health loop', async () => {
    // Comment nodes are editor notes (core nodes the test runtime does not load); debug nodes become helpers.
    const flow = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'two-cameras.json'), 'utf8')) as FlowItem[]).filter((n) => n.type !== 'comment');
    for (const n of flow) {
      if (n.type === 'wvp-register') Object.assign(n, { host: '127.0.0.1', port: platform.port, localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 35100, mediaPortMax: 35199, passwordEnv: '' });
      if (n.type === 'rtsp-source') Object.assign(n, { url: camera.url(new URL(String(n.url)).pathname), retryInterval: 1 });
      if (n.type === 'ps-rtp-sender') Object.assign(n, { keepWarm: 0, statsInterval: 1 });
      if (n.type === 'health-monitor') Object.assign(n, { interval: 1, stallAfter: 3, reconnectEvery: 2 });
      if (n.type === 'debug') n.type = 'helper';
    }
    const byType = (t: string) => flow.filter((n) => n.type === t);
    const regId = byType('wvp-register')[0].id;
    const devId = byType('gb28181-device')[0].id;
    const [src1Id] = byType('rtsp-source').filter((n) => n.channelId === CH1).map((n) => n.id);
    const healthId = byType('health-monitor')[0].id;

    await helper.load(inits, flow, { [regId]: { password: 'e2e-secret' } });
    const dev: Node = helper.getNode(devId);
    await platform.waitForRegistration(DEVICE_ID, 15000);
    await waitForStatus(dev, /^registered · 2 ch · 0 live$/, 15000);
    const catalog = await platform.queryCatalog(DEVICE_ID, 10000);
    assert.deepEqual(catalog.items.map((i) => i.DeviceID).sort(), [CH1, CH2]);
    assert.ok(catalog.items.every((i) => i.Status === 'ON'), `both channels ON: ${JSON.stringify(catalog.items.map((i) => i.Status))}`);

    // UDP, H.264 camera.
    const udpFile = path.join(tmp, 'udp.ps');
    const udp = await platform.invite(DEVICE_ID, CH1, { transport: 'udp', output: udpFile, timeoutMs: 15000 });
    assert.equal(udp.status, 200);
    await udp.waitForPackets(100, 15000);
    await waitForStatus(dev, /^registered · 2 ch · 1 live$/, 5000);
    await udp.bye();
    // TCP (the platform listens, we connect: WVP's "TCP passive"), H.265 camera.
    const tcpFile = path.join(tmp, 'tcp.ps');
    const tcp = await platform.invite(DEVICE_ID, CH2, { transport: 'tcp-passive', output: tcpFile, timeoutMs: 15000 });
    assert.equal(tcp.status, 200);
    await tcp.waitForPackets(100, 15000);
    await tcp.bye();
    // TCP active (we listen, the platform connects after the 200 OK).
    const activeFile = path.join(tmp, 'active.ps');
    const active = await platform.invite(DEVICE_ID, CH1, { transport: 'tcp-active', output: activeFile, timeoutMs: 15000 });
    assert.equal(active.status, 200);
    await active.waitForPackets(100, 15000);
    await active.bye();
    assert.equal(probeCodec(activeFile), 'h264');
    assert.equal(probeCodec(udpFile), 'h264');
    assert.equal(probeCodec(tcpFile), 'hevc');

    // BYE ends the ingest: no ffmpeg of ours is left (keep warm 0), only the camera's own encoders.
    const cameraPids = () => new Set(camera.encoderPids().map(String));
    const ours = () => ffChildren().filter((l) => !cameraPids().has(l.split(/\s+/)[0]));
    await waitFor(`ffmpeg ingests to end after BYE (still: ${ours().join(' | ')})`, () => ours().length === 0, 10000);

    // Kill the camera during a session: the feed goes offline, the health monitor asks rtsp-source to
    // reconnect, the probe fails and the catalog says OFF; revive it and the loop brings it back ON.
    const src1 = helper.getNode(src1Id);
    const channelMsgs: Array<{ online: boolean }> = [];
    const onSourceSend = (call: { args: unknown[] }) => channelMsgs.push((call.args[0] as { payload: { online: boolean } }).payload);
    (src1 as unknown as EventEmitter).on('call:send', onSourceSend);
    const reconnects: string[] = [];
    const onHealthSend = (call: { args: unknown[] }) => {
      const ports = call.args[0] as unknown[];
      const second = ports[1];
      const list = Array.isArray(second) ? second : second ? [second] : [];
      for (const m of list as Array<{ payload: { channelId: string } }>) reconnects.push(m.payload.channelId);
    };
    (helper.getNode(healthId) as unknown as EventEmitter).on('call:send', onHealthSend);
    const live = await platform.invite(DEVICE_ID, CH1, { transport: 'udp', timeoutMs: 15000 });
    await live.waitForPackets(20, 15000);
    await camera.suspend();
    await waitFor('the health monitor to ask channel 1 to reconnect', () => reconnects.includes(CH1), 20000);
    await waitFor('rtsp-source to report channel 1 offline', () => channelMsgs.some((m) => m.online === false), 20000);
    const off = await platform.queryCatalog(DEVICE_ID, 10000);
    assert.equal(off.items.find((i) => i.DeviceID === CH1)?.Status, 'OFF');
    await camera.resume();
    await waitFor('rtsp-source to report channel 1 online again', () => channelMsgs.length >= 2 && channelMsgs[channelMsgs.length - 1].online === true, 30000);
    const on = await platform.queryCatalog(DEVICE_ID, 10000);
    assert.equal(on.items.find((i) => i.DeviceID === CH1)?.Status, 'ON');
    if (!live.isEnded) await live.bye().catch(() => undefined);

    // Redeploy-style close: everything of ours stops.
    await helper.unload();
    await waitFor(`no ffmpeg/ffprobe of ours after close (still: ${ours().join(' | ')})`, () => ours().length === 0, 10000);
  });

  it('example (3): the sub-stream URL serves stream number 1, and Transcode turns the H.265 main stream into H.264', async () => {
    await helper.unload();
    const load = async (transcode: string) => {
      const flow = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'h265-substream.json'), 'utf8')) as FlowItem[]).filter((n) => n.type !== 'comment');
      for (const n of flow) {
        if (n.type === 'wvp-register') Object.assign(n, { host: '127.0.0.1', port: platform.port, localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 35200, mediaPortMax: 35299, passwordEnv: '' });
        if (n.type === 'rtsp-source') Object.assign(n, { url: camera.url(new URL(String(n.url)).pathname), subUrl: camera.url(new URL(String(n.subUrl)).pathname) });
        if (n.type === 'ps-rtp-sender') Object.assign(n, { keepWarm: 0, transcode });
        if (n.type === 'debug') n.type = 'helper';
      }
      const regId = flow.find((n) => n.type === 'wvp-register')?.id as string;
      const dev = flow.find((n) => n.type === 'gb28181-device') as FlowItem;
      const ch = String(flow.find((n) => n.type === 'rtsp-source')?.channelId);
      await helper.load(inits, flow, { [regId]: { password: 'e2e-secret' } });
      await waitForStatus(helper.getNode(dev.id), /^registered · 1 ch/, 15000);
      return { deviceId: String(dev.deviceId), ch };
    };
    const play = async (deviceId: string, ch: string, name: string, streamNumber: 0 | 1) => {
      const file = path.join(tmp, name);
      const session = await platform.invite(deviceId, ch, { transport: 'udp', output: file, streamNumber, timeoutMs: 15000 });
      await session.waitForPackets(60, 20000);
      await session.bye();
      return probeCodec(file);
    };
    const a = await load('none');
    assert.equal(await play(a.deviceId, a.ch, 'sub.ps', 1), 'h264', 'stream 1 comes from the sub-stream URL (/h264)');
    assert.equal(await play(a.deviceId, a.ch, 'main.ps', 0), 'hevc', 'stream 0 is the H.265 main stream');
    await helper.unload();
    const b = await load('video');
    assert.equal(await play(b.deviceId, b.ch, 'transcoded.ps', 0), 'h264', 'transcoded to H.264');
    await helper.unload();
  });

  it('redeploying only the device or only the sender ("modified nodes") ends their sessions on both sides: BYE to the platform, no ffmpeg left', async () => {
    await helper.unload();
    const flow: FlowItem[] = [
      { id: 'reg', type: 'wvp-register', serverId: '34020000002000000001', host: '127.0.0.1', port: platform.port, localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 35300, mediaPortMax: 35399 },
      { id: 'src', type: 'rtsp-source', channelId: CH1, url: camera.url('/h264'), wires: [['dev']] },
      { id: 'dev', type: 'gb28181-device', platform: 'reg', deviceId: DEVICE_ID, deviceName: 'before', wires: [['snd'], []] },
      { id: 'snd', type: 'ps-rtp-sender', keepWarm: 0, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(inits, flow, { reg: { password: 'e2e-secret' } });
    await waitForStatus(helper.getNode('dev'), /^registered · 1 ch/, 15000);
    const events: Array<{ event: string; reason?: string }> = [];
    (helper.getNode('out') as unknown as EventEmitter).on('input', (m: { topic: string; payload: { event: string; reason?: string } }) => {
      if (m.topic === 'session') events.push(m.payload);
    });
    const session = await platform.invite(DEVICE_ID, CH1, { transport: 'udp', timeoutMs: 15000 });
    await session.waitForPackets(20, 15000);
    const changed = flow.map((n) => (n.id === 'dev' ? { ...n, deviceName: 'after' } : n));
    await helper.setFlows(changed, 'nodes', { reg: { password: 'e2e-secret' } });
    await waitFor('the sender to stop the session of the closed device', () => events.some((e) => e.event === 'stopped' && /device node closed/.test(e.reason ?? '')), 10000);
    await waitFor('the platform to get a BYE', () => session.isEnded, 10000);
    const cameraPids = new Set(camera.encoderPids().map(String));
    await waitFor('no ffmpeg ingest of ours left', () => ffChildren().filter((l) => !cameraPids.has(l.split(/\s+/)[0])).length === 0, 10000);
    await waitForStatus(helper.getNode('dev'), /^registered · 1 ch · 0 live$/, 15000);

    // And the other way round: the sender redeployed alone asks the device to BYE its calls.
    const second = await platform.invite(DEVICE_ID, CH1, { transport: 'udp', timeoutMs: 15000 });
    await second.waitForPackets(20, 15000);
    await helper.setFlows(changed.map((n) => (n.id === 'snd' ? { ...n, name: 'renamed' } : n)), 'nodes', { reg: { password: 'e2e-secret' } });
    await waitFor('the platform to get a BYE after the sender closed', () => second.isEnded, 10000);
    await waitForStatus(helper.getNode('dev'), /^registered · 1 ch · 0 live$/, 10000);
    await helper.unload();
  });
});
