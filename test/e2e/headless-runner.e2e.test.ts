/**
 * The headless runner end to end: `gb28181-gateway --config` with the seed project's files (hosts moved to
 * 127.0.0.1) against the platform emulator and the simulated camera, media decoded by Debian's ffprobe.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { PsDecodeCheck } from '../media/ps-capture-check';
import { PROJECT_ROOT } from '../support/node-red-process';
import { freePort } from '../support/free-port';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gb28181-gateway.js');

interface Runner {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

function startRunner(configFile: string): Runner {
  const child = spawn(process.execPath, [BIN, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      child.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
      child.kill('SIGTERM');
    }),
  };
}

describe('headless runner (e2e)', function () {
  this.timeout(90_000);
  let dir: string;
  let camera: SimulatedCamera;
  let platform: PlatformEmulator | undefined;
  let runner: Runner | undefined;
  const check = new PsDecodeCheck();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-runner-'));
    camera = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    await camera.start();
  });
  afterEach(async () => {
    if (runner) {
      const out = runner.output();
      await runner.stop();
      assert.ok(!/password@|admin123/.test(out), 'no secret in the runner output');
    }
    runner = undefined;
    await platform?.stop();
    platform = undefined;
  });
  after(async () => {
    await camera.stop();
    check.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs the seed file as is: registers, answers Catalog and DeviceInfo, streams an INVITE that ffprobe decodes, unregisters on SIGTERM', async () => {
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, autoQuery: false });
    const { port } = await platform.start();
    const file = path.join(dir, 'seed.json');
    fs.writeFileSync(file, JSON.stringify({
      rtsp_sources: [{ url: camera.url('/h264'), name: 'Front Door Camera', device_id: '34020000001320000001' }],
      wvp_server: { host: '127.0.0.1', port },
    }));
    runner = startRunner(file);
    const dev = await platform.waitForRegistration('34020000001110000001', 20_000);
    assert.equal(dev.deviceId, '34020000001110000001');
    const catalog = await platform.queryCatalog(dev.deviceId, 10_000);
    assert.equal(catalog.sumNum, 1);
    assert.equal(catalog.items[0].DeviceID, '34020000001320000001');
    assert.equal(catalog.items[0].Name, 'Front Door Camera');
    const info = await platform.queryDeviceInfo(dev.deviceId);
    assert.equal(info.Result, 'OK');

    const output = path.join(dir, 'seed.ps');
    const session = await platform.invite(dev.deviceId, '34020000001320000001', { transport: 'udp', output });
    assert.equal(session.status, 200);
    assert.deepEqual(session.sdpProblems, []);
    await session.waitForPackets(150, 20_000);
    await session.bye();
    const report = await check.probe(output);
    assert.equal(report.videoCodec, 'h264');
    assert.equal(report.width, 320);
    assert.ok(report.videoFrames > 10, `decoded ${report.videoFrames} frames`);

    const unregistered = platform.waitForEvent('unregister', undefined, 10_000);
    assert.equal(await runner.stop(), 0);
    await unregistered;
  });

  it('runs the earlier Python gateway file: password from sip, its local port, both channels, ignored keys named in one warning, RecordInfo answered', async () => {
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: 'admin123', autoQuery: false });
    const { port } = await platform.start();
    const localPort = await freePort();
    const file = path.join(dir, 'legacy.json');
    fs.writeFileSync(file, JSON.stringify({
      sip: { device_id: '81000000465001000001', username: '81000000465001000001', password: 'admin123', server: '127.0.0.1', port,
        local_port: localPort, transport: 'udp', local_ip: '127.0.0.1', contact_ip: '127.0.0.1' },
      local_sip: { enabled: false, port: 5060, transport: 'udp' },
      stream_directory: path.join(dir, 'recordings'),
      rtsp_sources: [camera.url('/h264'), { url: camera.url('/h264'), name: 'Gate', channel_id: '81000000461310000002', enabled: true }],
      srtp: { key: '3132' }, logging: { level: 'INFO', console: true },
      pipeline: { format: 'RGB', width: 640, height: 480, framerate: 30 },
      max_channels: 20, sip_settings: { local_port: localPort, bind_address: '0.0.0.0', timeout: 10000 },
      wvp_compatibility: { response_timeout: 30 }, network_settings: { keepalive_interval: 60 },
    }));
    runner = startRunner(file);
    const dev = await platform.waitForRegistration('81000000465001000001', 20_000);
    assert.equal(dev.port, localPort);
    const catalog = await platform.queryCatalog(dev.deviceId, 10_000);
    assert.deepEqual(catalog.items.map((i) => i.DeviceID).sort(), ['81000000461310000002', '81000000461320000001']);
    const warnings = runner.output().split('\n').filter((l) => l.startsWith('warning:'));
    assert.equal(warnings.length, 1, runner.output());
    for (const key of ['local_sip', 'srtp', 'pipeline', 'max_channels', 'wvp_compatibility']) assert.ok(warnings[0].includes(key), warnings[0]);
    const records = await platform.queryRecordInfo(dev.deviceId, '81000000461320000001', '2025-01-01T00:00:00', '2025-01-01T23:59:59');
    assert.equal(records.sumNum, 0, 'an empty stream_directory answers SumNum 0');
  });

  it('says which key to set when the platform challenges and no password is configured', async () => {
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: 'secret', autoQuery: false });
    const { port } = await platform.start();
    const file = path.join(dir, 'nopw.json');
    fs.writeFileSync(file, JSON.stringify({ rtsp_sources: [{ url: camera.url('/h264') }], wvp_server: { host: '127.0.0.1', port } }));
    runner = startRunner(file);
    const deadline = Date.now() + 15_000;
    while (!/platform\.password/.test(runner.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.match(runner.output(), /registration failed: .*platform\.password/);
  });
});
