import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { GbDevice } from '../../lib/device/gb-device';
import { deviceConfig, localConfig, platformConfig, channels } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { delay, header, manscdpQuery, RawSipPlatform, xmlText } from './raw-sip-platform';

describe('keepalive and re-registration', function () {
  this.timeout(30000);
  let h: Harness | undefined;
  const extra: RawSipPlatform[] = [];
  const devices: GbDevice[] = [];

  afterEach(async () => {
    for (const d of devices.splice(0)) await d.stop();
    await h?.close();
    h = undefined;
    for (const p of extra.splice(0)) await p.close();
  });

  it('sends Notify/Keepalive every interval with the device ID and Status OK', async () => {
    h = await startHarness({ platform: { keepaliveInterval: 1, keepaliveCount: 3 } });
    await delay(2300);
    const kas = h.platform.received.filter((m) => m.method === 'MESSAGE' && iconv.decode(m.body, 'gbk').includes('Keepalive'));
    assert.ok(kas.length >= 2 && kas.length <= 3, `${kas.length} keepalives`);
    const x = iconv.decode(kas[0].body, 'gbk');
    assert.equal(xmlText(x, 'CmdType'), 'Keepalive');
    assert.equal(xmlText(x, 'DeviceID'), deviceConfig().id);
    assert.equal(xmlText(x, 'Status'), 'OK');
    assert.match(x, /<Notify>/);
    assert.equal(header(kas[0], 'content-type'), 'Application/MANSCDP+xml');
    assert.equal(h.device.state, 'registered');
  });

  it('registers again from scratch (new Call-ID) after keepaliveCount silent keepalives', async () => {
    h = await startHarness({ platform: { keepaliveInterval: 1, keepaliveCount: 2 } });
    const firstCallId = header(h.platform.received.find((m) => m.method === 'REGISTER')!, 'call-id');
    h.platform.registrar = { ...h.platform.registrar, messageStatus: undefined };
    h.platform.autoAnswerMessages = false; // keepalives go unanswered, REGISTER still answered
    const registering = new Promise<void>((r) => h!.device.once('registering', () => r()));
    const t0 = Date.now();
    await registering;
    assert.ok(Date.now() - t0 < 5000, `noticed after ${Date.now() - t0} ms`);
    await new Promise<void>((r) => h!.device.once('registered', () => r()));
    const last = h.platform.received.filter((m) => m.method === 'REGISTER').pop()!;
    assert.notEqual(header(last, 'call-id'), firstCallId);
  });

  it('registers again at once when a keepalive is answered 404 (platform forgot us)', async () => {
    h = await startHarness({ platform: { keepaliveInterval: 1, keepaliveCount: 3 } });
    const regsBefore = h.platform.received.filter((m) => m.method === 'REGISTER').length;
    h.platform.registrar = { ...h.platform.registrar, messageStatus: 404 };
    const t0 = Date.now();
    await new Promise<void>((r) => h!.device.once('registering', () => r()));
    assert.ok(Date.now() - t0 < 2000);
    h.platform.registrar = { ...h.platform.registrar, messageStatus: 200 };
    await new Promise<void>((r) => h!.device.once('registered', () => r()));
    assert.ok(h.platform.received.filter((m) => m.method === 'REGISTER').length > regsBefore);
  });

  it('is registered again within 10 s after the platform restarts mid-run', async () => {
    h = await startHarness({ platform: { keepaliveInterval: 1, keepaliveCount: 3 } });
    const port = h.platform.port;
    await h.platform.close();
    const downAt = Date.now();
    await delay(2000);
    const reborn = new RawSipPlatform();
    extra.push(reborn);
    await reborn.start(port);
    reborn.registrar = { password: '12345678' };
    // The reborn platform knows no device: keepalives get 404 until we register again.
    reborn.registrar.messageStatus = 404;
    const registeredAgain = new Promise<number>((resolve) => {
      const check = () => {
        if (reborn.registered) resolve(Date.now());
        else setTimeout(check, 50);
      };
      check();
    });
    const at = await Promise.race([registeredAgain, delay(10000).then(() => -1)]);
    assert.ok(at > 0, 'registered with the restarted platform');
    assert.ok(at - downAt <= 10000, `${at - downAt} ms`);
    reborn.registrar.messageStatus = 200;
    await delay(200);
    assert.equal(h.device.state, 'registered');
  });

  it('answers queries over TCP signalling too', async () => {
    h = await startHarness({ tcp: true });
    const { data, callId } = h.platform.request('MESSAGE', h.deviceUri, { contentType: 'Application/MANSCDP+xml', body: manscdpQuery('Catalog', 3, deviceConfig().id), transport: 'TCP' });
    const ok = await h.ask(data, callId);
    assert.equal(ok.status, 200);
    await h.platform.waitFor((m) => m.method === 'MESSAGE' && iconv.decode(m.body, 'gbk').includes('<SumNum>20</SumNum>') && (m.body.toString('latin1').match(/<Item>/g) ?? []).length === 4, 3000);
    assert.match(header(h.platform.received.find((m) => m.method === 'REGISTER')!, 'via') ?? '', /SIP\/2\.0\/TCP/);
  });

  it('start() rejects with a typed error when the SIP port is taken, and the process stays up', async () => {
    const p = new RawSipPlatform();
    extra.push(p);
    await p.start();
    const d1 = new GbDevice({ device: deviceConfig(), platform: platformConfig(p.port), local: localConfig() });
    devices.push(d1);
    await d1.start();
    const d2 = new GbDevice({ device: deviceConfig(), platform: platformConfig(p.port), local: localConfig({ sipPort: d1.localSipPort() }) });
    d2.setChannels(channels(1));
    await assert.rejects(d2.start(), (e: Error & { code?: string }) => e.code === 'SIP_BIND_FAILED' && /already in use/.test(e.message));
    assert.equal(d2.state, 'idle');
  });
});

describe('device lifecycle', function () {
  this.timeout(10000);
  it('can be started again after stop() and registers again', async () => {
    const p = new RawSipPlatform();
    await p.start();
    p.registrar = { password: '12345678' };
    const d = new GbDevice({ device: deviceConfig(), platform: platformConfig(p.port), local: localConfig() });
    d.setChannels(channels(2));
    try {
      for (let round = 0; round < 2; round++) {
        const registered = new Promise<void>((r) => d.once('registered', () => r()));
        await d.start();
        await registered;
        assert.equal(d.state, 'registered');
        await d.stop();
        assert.equal(d.state, 'unregistered');
      }
      assert.equal(new Set(p.received.filter((m) => m.method === 'REGISTER' && header(m, 'expires') === '0').map((m) => header(m, 'call-id'))).size, 2);
    } finally {
      await d.stop();
      await p.close();
    }
  });
});
