/**
 * The zero-setup demo flow (examples/zero-setup-demo.json) as `npm start` runs it: the platform
 * emulator with its demo script and a simulated camera, the platform password from the
 * GB28181_PLATFORM_PASSWORD environment variable (the flow holds none). Ports are moved to free
 * ones so the test never collides with a running demo.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeInitializer } from 'node-red';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { SimulatedOnvifCamera } from '../../lib/sim/onvif-camera/simulated-onvif-camera';
import { startDemoPlatformScript, DemoPlatformScript } from '../../lib/sim/platform/demo-script';
import { PlatformAlarm, PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { PROJECT_ROOT } from '../support/node-red-process';
import { nodeHelper, nodeInitializers, waitFor } from './node-test-support';

const helper = nodeHelper();
type FlowItem = { id: string; type: string; wires?: string[][] } & Record<string, unknown>;

describe('zero-setup demo flow', function () {
  this.timeout(60000);
  let camera: SimulatedCamera;
  let onvif: SimulatedOnvifCamera;
  let recordings: string;
  let platform: PlatformEmulator;
  let script: DemoPlatformScript | undefined;
  let inits: NodeInitializer[];

  before(async () => {
    inits = nodeInitializers();
    camera = new SimulatedCamera({ host: '127.0.0.1', port: 0 });
    await camera.start();
    onvif = new SimulatedOnvifCamera({ host: '127.0.0.1', port: 0, authScheme: 'none', presets: [{ token: 'gate', name: 'Gate' }] });
    await onvif.start();
    recordings = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-demo-rec-'));
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, serverId: '34020000002000000001', domain: '3402000000', password: '12345678', mediaPortRange: [36000, 36099] });
    await platform.start();
  });

  after(async () => {
    await script?.stop();
    await helper.unload();
    delete process.env.GB28181_PLATFORM_PASSWORD;
    await platform.stop();
    await camera.stop();
    await onvif.stop();
    fs.rmSync(recordings, { recursive: true, force: true });
  });

  it('holds no secret, registers with the password from the environment, and the demo platform plays a channel', async () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'zero-setup-demo.json'), 'utf8');
    assert.ok(!text.includes('12345678'), 'the demo flow holds no password');
    const flow = (JSON.parse(text) as FlowItem[]).filter((n) => n.type !== 'comment');
    const reg = flow.find((n) => n.type === 'wvp-register') as FlowItem;
    assert.equal(reg.passwordEnv, 'GB28181_PLATFORM_PASSWORD');
    assert.equal(reg.port, 15060);
    assert.equal(reg.serverId, '34020000002000000001');
    const device = flow.find((n) => n.type === 'gb28181-device') as FlowItem;
    for (const n of flow) {
      if (n.type === 'wvp-register') Object.assign(n, { port: platform.port, mediaPortMin: 36100, mediaPortMax: 36199 });
      if (n.type === 'rtsp-source') {
        const u = new URL(String(n.url));
        assert.equal(u.port, '8554');
        n.url = camera.url(u.pathname);
        if (n.onvifEnabled) {
          assert.equal(n.onvifPort, 18080);
          n.onvifPort = onvif.port;
        }
        if (n.recordDirs) n.recordDirs = recordings;
      }
      if (n.type === 'debug' || n.type === 'inject') n.type = 'helper';
    }
    const inject = (JSON.parse(text) as FlowItem[]).find((n) => n.type === 'inject') as FlowItem;
    assert.ok(inject, 'the demo has an alarm inject');
    assert.deepEqual(inject.wires, [[device.id]]);
    const log: string[] = [];
    script = startDemoPlatformScript(platform, { deviceId: String(device.deviceId), log: (l) => log.push(l), reportEverySeconds: 1, subscribe: { expires: 3600 }, exercisePtz: true });
    process.env.GB28181_PLATFORM_PASSWORD = '12345678';
    await helper.load(inits, flow);
    await waitFor(`the demo platform to play a channel (log: ${log.join(' | ')})`, () => log.some((l) => /^playing 3402000000132000000[12]/.test(l)), 30000);
    await waitFor(`media to arrive (log: ${log.join(' | ')})`, () => log.some((l) => /media from \d+: [1-9]\d* RTP packets/.test(l)), 15000);
    const catalogLine = log.find((l) => l.startsWith('catalog:')) ?? '';
    assert.match(catalogLine, /34020000001320000001/);
    assert.match(catalogLine, /34020000001320000002/);

    // The PTZ loop: the platform's arrow reaches the simulated ONVIF camera through device output 2 → rtsp-source.
    await waitFor(`the PTZ exercise and the preset list (log: ${log.join(' | ')})`, () => log.some((l) => /^presets of \d+: .*Gate/.test(l)), 20000);
    const moves = onvif.calls.filter((c) => c.action === 'ContinuousMove');
    assert.ok(moves.length >= 1 && (moves[0].velocity?.x ?? 0) > 0, `camera 1 panned right: ${JSON.stringify(onvif.calls)}`);
    assert.ok(onvif.calls.some((c) => c.action === 'Stop'), 'and stopped');
    assert.ok(log.some((l) => /^Alarm subscription: 200/.test(l)), `subscribed to alarms: ${log.join(' | ')}`);

    // The inject node's alarm reaches the platform (by NOTIFY: the demo platform subscribed).
    const arrived = new Promise<PlatformAlarm>((resolve) => platform.once('alarm', resolve));
    helper.getNode(String(device.id)).receive({ topic: String(inject.topic), payload: JSON.parse(String(inject.payload)) });
    const alarm = await Promise.race([arrived, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no alarm at the platform')), 10000))]);
    assert.equal(alarm.channelId, '34020000001320000001');
    assert.equal(alarm.via, 'notify');

    // Camera 1 records continuously into its folder.
    const written = () => fs.readdirSync(recordings, { recursive: true }).map(String).filter((f) => /\.ts(\.part)?$/.test(f));
    await waitFor(`camera 1 to record (files: ${written().join(', ')})`, () => written().length > 0, 15000);
  });
});
