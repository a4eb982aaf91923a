import * as assert from 'node:assert/strict';
import { Registration } from '../../lib/sip/registration';
import { SipEndpoint } from '../../lib/sip/sip-endpoint';
import { platformConfig, DEVICE_ID } from '../device/device-fixture';
import { delay, digestParams, header, RawSipPlatform } from '../device/raw-sip-platform';

describe('registration', function () {
  this.timeout(15000);
  let platform: RawSipPlatform;
  let endpoint: SipEndpoint;
  let reg: Registration | undefined;

  beforeEach(async () => {
    platform = new RawSipPlatform();
    await platform.start();
    endpoint = new SipEndpoint({ protocol: 'udp', bindIp: '127.0.0.1', port: 0, userAgent: 'test-ua' });
    await endpoint.start();
  });

  afterEach(async () => {
    await reg?.stop(500).catch(() => undefined);
    reg = undefined;
    await endpoint.stop();
    await platform.close();
  });

  function make(over: Parameters<typeof platformConfig>[1] = {}, extra: Partial<ConstructorParameters<typeof Registration>[0]> = {}): Registration {
    reg = new Registration({ endpoint, deviceId: DEVICE_ID, platform: platformConfig(platform.port, over), requestTimeoutMs: 1500, ...extra });
    return reg;
  }

  function once(r: Registration, ev: string, ms = 5000): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms (state ${r.state}, ${r.lastFailure ?? ''})`)), ms);
      r.once(ev, (...args: unknown[]) => {
        clearTimeout(t);
        resolve(args);
      });
    });
  }

  for (const qop of [true, false]) {
    it(`answers the digest challenge ${qop ? 'with' : 'without'} qop and reaches registered`, async () => {
      platform.registrar = { password: '12345678', qop, date: '2024-02-21T11:10:36.123' };
      const r = make();
      const registered = once(r, 'registered');
      r.start();
      await registered;
      assert.equal(r.state, 'registered');
      const regs = platform.received.filter((m) => m.method === 'REGISTER');
      assert.equal(regs.length, 2);
      assert.equal(header(regs[0], 'call-id'), header(regs[1], 'call-id'));
      assert.equal(header(regs[0], 'expires'), '3600');
      assert.match(header(regs[0], 'via') ?? '', /;rport/);
      assert.match(header(regs[0], 'contact') ?? '', new RegExp(`<sip:${DEVICE_ID}@127\\.0\\.0\\.1:${endpoint.localPort}>`));
      assert.equal(header(regs[0], 'user-agent'), 'test-ua');
      const auth = digestParams(header(regs[1], 'authorization') ?? '');
      assert.equal(auth.algorithm, 'MD5');
      if (qop) assert.match(auth.nc, /^[0-9a-f]{8}$/i);
      else assert.equal(auth.qop, undefined);
      assert.ok(Number(header(regs[1], 'cseq')?.split(' ')[0]) > Number(header(regs[0], 'cseq')?.split(' ')[0]));
      // Date header in Asia/Shanghai: 2024-02-21T03:10:36.123Z, far in the past.
      const expected = Date.UTC(2024, 1, 21, 3, 10, 36, 123) - Date.now();
      assert.ok(Math.abs((r.clockOffsetMs ?? 0) - expected) < 2000, `offset ${r.clockOffsetMs}`);
    });
  }

  it('fails with the reason on a wrong password, then retries with backoff, not in a tight loop', async () => {
    platform.registrar = { password: 'other' };
    const r = make({}, { backoffMinMs: 300, backoffMaxMs: 1200, random: () => 0.5 });
    const failures: Array<{ at: number; reason: string; status?: number }> = [];
    r.on('failed', (reason: string, status?: number) => failures.push({ at: Date.now(), reason, status }));
    r.start();
    await delay(2600);
    assert.ok(failures.length >= 3 && failures.length <= 6, `failures ${failures.length}`);
    assert.equal(failures[0].status, 403);
    assert.match(failures[0].reason, /403/);
    assert.match(failures[0].reason, /platform\.password/);
    assert.equal(r.state, 'failed');
    for (let i = 1; i < failures.length; i++) assert.ok(failures[i].at - failures[i - 1].at >= 250, 'spaced by the backoff');
    // Backoff grows and is capped: the gap never exceeds the max (plus the exchange time).
    const gaps = failures.slice(1).map((f, i) => f.at - failures[i].at);
    assert.ok(gaps.every((g) => g < 1200 + 500), gaps.join(','));
    assert.ok(gaps[gaps.length - 1] > gaps[0], `growing: ${gaps.join(',')}`);
  });

  it('names platform.password when challenged without a password configured', async () => {
    platform.registrar = { password: 'x' };
    const r = make({ password: undefined });
    const failed = once(r, 'failed');
    r.start();
    const [reason, status] = await failed;
    assert.match(String(reason), /platform\.password/);
    assert.equal(status, 401);
  });

  it('fails with "no answer" when the platform is silent, and keeps retrying', async () => {
    platform.registrar = { silent: true };
    const r = make({}, { requestTimeoutMs: 600, backoffMinMs: 200, backoffMaxMs: 400 });
    const failed = once(r, 'failed');
    r.start();
    const [reason] = await failed;
    assert.match(String(reason), /no answer/);
    await delay(1200);
    assert.ok(platform.received.filter((m) => m.method === 'REGISTER').length >= 3);
  });

  it('refreshes before expiry in the same Call-ID with a rising CSeq, and unregisters with Expires 0 on stop', async () => {
    platform.registrar = { password: '12345678' };
    const r = make({ expires: 2 });
    const registered = once(r, 'registered');
    r.start();
    await registered;
    await platform.next((m) => m.method === 'REGISTER', 3000);
    await delay(300);
    const regs = platform.received.filter((m) => m.method === 'REGISTER');
    assert.ok(regs.length >= 3);
    const callIds = new Set(regs.map((m) => header(m, 'call-id')));
    assert.equal(callIds.size, 1, 'same Call-ID');
    const seqs = regs.map((m) => Number(header(m, 'cseq')?.split(' ')[0]));
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1]);
    const unregistered = once(r, 'unregistered');
    await r.stop(1000);
    await unregistered;
    const last = platform.received.filter((m) => m.method === 'REGISTER').pop();
    assert.equal(last && header(last, 'expires'), '0');
    assert.equal(last && header(last, 'call-id'), [...callIds][0]);
    assert.equal(platform.registered, false);
    reg = undefined;
  });
});
