import assert from 'node:assert/strict';
import { gbSipDate, PlatformEmulator, PlatformEmulatorOptions } from '../../lib/sim/platform/platform-emulator';
import { hdr, RawSipDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001320000001';

describe('PlatformEmulator registration (WVP RegisterRequestProcessor)', function () {
  this.timeout(10_000);
  let platform: PlatformEmulator;
  let device: RawSipDevice;

  async function setup(opts: PlatformEmulatorOptions): Promise<void> {
    platform = new PlatformEmulator({ autoQuery: false, ...opts });
    const { port } = await platform.start();
    device = new RawSipDevice(DEVICE_ID, port);
    await device.start();
  }

  afterEach(async () => {
    device?.close();
    await platform?.stop();
  });

  it('writes the 200\'s Date as WVP does, in the zone of its JVM when one is given', () => {
    const at = new Date('2025-06-12T02:30:05.123Z');
    assert.equal(gbSipDate(at, 'Asia/Shanghai'), '2025-06-12T10:30:05.123');
    assert.equal(gbSipDate(at, 'UTC'), '2025-06-12T02:30:05.123');
    assert.match(gbSipDate(at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('challenges with qop="auth", accepts the right digest and refuses a wrong one with 403 "wrong password"', async () => {
    await setup({ password: 'secret12' });
    device.register({ callId: 'reg-1', cseq: 1, expires: 3600 });
    const challenge = await device.response('REGISTER');
    assert.equal(challenge.startLine, 'SIP/2.0 401 Unauthorized');
    const www = hdr(challenge, 'WWW-Authenticate') ?? '';
    assert.match(www, /^Digest realm="3402000000", qop="auth", nonce="[0-9a-f]{32}", algorithm=MD5$/);
    assert.match(hdr(challenge, 'Via') ?? '', new RegExp(`;rport=${device.port}`));
    assert.match(hdr(challenge, 'Via') ?? '', /;received=127\.0\.0\.1/);

    device.register({ callId: 'reg-1', cseq: 2, expires: 3600, authorization: device.authorization(www, 'wrong-pass') });
    const refused = await device.response('REGISTER');
    assert.equal(refused.startLine, 'SIP/2.0 403 wrong password');
    assert.equal(platform.devices().length, 0);

    device.register({ callId: 'reg-1', cseq: 3, expires: 3600, authorization: device.authorization(www, 'secret12') });
    const registered = platform.waitForRegistration(DEVICE_ID, 3000);
    const ok = await device.response('REGISTER');
    assert.equal(ok.startLine, 'SIP/2.0 200 OK');
    assert.match(hdr(ok, 'Date') ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/);
    assert.equal(hdr(ok, 'Contact'), `<sip:${DEVICE_ID}@127.0.0.1:${device.port}>`);
    assert.equal(hdr(ok, 'Expires'), '3600');
    const dev = await registered;
    assert.deepEqual([dev.deviceId, dev.address, dev.port, dev.transport, dev.expires, dev.callId], [DEVICE_ID, '127.0.0.1', device.port, 'udp', 3600, 'reg-1']);
  });

  it('challenges without qop when qop:false and checks MD5(HA1:nonce:HA2)', async () => {
    await setup({ password: 'secret12', qop: false });
    device.register({ callId: 'reg-2', cseq: 1, expires: 60, compact: true });
    const challenge = await device.response('REGISTER');
    const www = hdr(challenge, 'WWW-Authenticate') ?? '';
    assert.match(www, /^Digest realm="3402000000", nonce="[0-9a-f]{32}", algorithm=MD5$/);
    device.register({ callId: 'reg-2', cseq: 2, expires: 60, authorization: device.authorization(www, 'nope'), compact: true });
    assert.equal((await device.response('REGISTER')).startLine, 'SIP/2.0 403 wrong password');
    device.register({ callId: 'reg-2', cseq: 3, expires: 60, authorization: device.authorization(www, 'secret12'), compact: true });
    assert.equal((await device.response('REGISTER')).startLine, 'SIP/2.0 200 OK');
    assert.equal(platform.devices()[0]?.expires, 60);
  });

  it('answers 400 without an Expires header and 403 for an ID that is not 20 digits', async () => {
    await setup({ password: 'secret12' });
    device.register({ callId: 'reg-3', cseq: 1 });
    const challenge = await device.response('REGISTER');
    device.register({ callId: 'reg-3', cseq: 2, authorization: device.authorization(hdr(challenge, 'WWW-Authenticate') ?? '', 'secret12') });
    assert.equal((await device.response('REGISTER')).startLine, 'SIP/2.0 400 Bad Request');

    device.register({ callId: 'reg-4', cseq: 1, expires: 3600, deviceId: '3402000000132000001' });
    assert.equal((await device.response('REGISTER')).startLine.slice(0, 12), 'SIP/2.0 403 ');
    assert.equal(platform.devices().length, 0);
  });

  it('recognises a refresh by the same Call-ID (no challenge), challenges a new Call-ID, unregisters on Expires 0', async () => {
    await setup({ password: 'secret12' });
    assert.equal((await device.registerFully('secret12', 'call-A')).startLine, 'SIP/2.0 200 OK');
    const firstAt = platform.devices()[0].registeredAt;

    const refreshed = platform.waitForEvent('refresh', (d) => d.deviceId === DEVICE_ID, 3000);
    device.register({ callId: 'call-A', cseq: 10, expires: 1800 });
    const refresh = await device.response('REGISTER');
    await refreshed;
    assert.equal(refresh.startLine, 'SIP/2.0 200 OK');
    assert.equal(platform.devices()[0].expires, 1800);
    assert.equal(platform.devices()[0].registeredAt, firstAt);

    device.register({ callId: 'call-B', cseq: 1, expires: 1800 });
    assert.equal((await device.response('REGISTER')).startLine, 'SIP/2.0 401 Unauthorized');

    const gone = platform.waitForEvent('unregister', (d) => d.deviceId === DEVICE_ID, 3000);
    device.register({ callId: 'call-A', cseq: 11, expires: 0 });
    assert.equal((await device.response('REGISTER')).startLine, 'SIP/2.0 200 OK');
    await gone;
    assert.equal(platform.devices().length, 0);
  });

  it('registers without a challenge when no password is set, answers keepalives 200 and unknown devices 404', async () => {
    await setup({});
    const stranger = new RawSipDevice('34020000001320000099', platform.port);
    await stranger.start();
    try {
      assert.equal((await device.registerFully(undefined)).startLine, 'SIP/2.0 200 OK');
      const keepalive = platform.waitForEvent('keepalive', (d) => d.deviceId === DEVICE_ID, 3000);
      device.message(`<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>7</SN>\r\n<DeviceID>${DEVICE_ID}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n`);
      assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 200 OK');
      const [dev] = await keepalive;
      assert.ok(dev.lastKeepalive !== undefined);

      stranger.message(`<?xml version="1.0"?><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>34020000001320000099</DeviceID><Status>OK</Status></Notify>`);
      assert.match((await stranger.response('MESSAGE')).startLine, /^SIP\/2\.0 404 /);
    } finally {
      stranger.close();
    }
  });

  it('drops a device whose registration expires without a refresh (offline event)', async () => {
    await setup({});
    const offline = platform.waitForEvent('offline', (d) => d.deviceId === DEVICE_ID, 3000);
    const started = Date.now();
    assert.equal((await device.registerFully(undefined, 'short', 1)).startLine, 'SIP/2.0 200 OK');
    const [, reason] = await offline;
    assert.equal(reason, 'registration expired');
    assert.ok(Date.now() - started >= 900);
    assert.equal(platform.devices().length, 0);
  });

  it('uses a per-device password over the public one', async () => {
    await setup({ password: 'public1', devicePasswords: { [DEVICE_ID]: 'own-pass' } });
    assert.equal((await device.registerFully('public1', 'pd-1')).startLine, 'SIP/2.0 403 wrong password');
    assert.equal((await device.registerFully('own-pass', 'pd-2')).startLine, 'SIP/2.0 200 OK');
  });
});
