import * as assert from 'node:assert/strict';
import { MansRtspCommand } from '../../lib/device/gb-device';
import { StreamRequest } from '../../lib/session/stream-contract';
import { wvpOffer } from '../sdp/wvp-offer';
import { DEVICE_ID } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { busyError } from './fake-stream-handler';
import { delay, header, RawMessage } from './raw-sip-platform';

const CH = '34020000001320000001';
const OFFLINE_CH = '34020000001320000005';

describe('INVITE sessions', function () {
  this.timeout(20000);
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  function invite(mode: 'UDP' | 'TCP-PASSIVE' | 'TCP-ACTIVE', channel = CH, opts: Parameters<typeof wvpOffer>[1] & { edit?: (sdp: string) => string } = {}) {
    const hh = h as Harness;
    const uri = `sip:${channel}@127.0.0.1:${hh.device.localSipPort()}`;
    return hh.platform.request('INVITE', uri, {
      contentType: 'APPLICATION/SDP',
      body: Buffer.from((opts.edit ?? ((x: string) => x))(wvpOffer(mode, opts))),
      extra: [`Subject: ${channel}:0200000001,34020000002000000001:0`],
    });
  }

  function ack(ok: RawMessage, callId: string, fromTag: string) {
    const hh = h as Harness;
    const toTag = /;tag=([^;>\s]+)/.exec(header(ok, 'to') ?? '')?.[1];
    const cseq = Number(header(ok, 'cseq')?.split(' ')[0]);
    return hh.platform.request('ACK', `sip:${DEVICE_ID}@127.0.0.1:${hh.device.localSipPort()}`, { callId, cseq, fromTag, toTag, toUri: `sip:${CH}@127.0.0.1:${hh.device.localSipPort()}` });
  }

  function inDialog(method: string, ok: RawMessage, callId: string, fromTag: string, extra: { contentType?: string; body?: Buffer } = {}) {
    const hh = h as Harness;
    const toTag = /;tag=([^;>\s]+)/.exec(header(ok, 'to') ?? '')?.[1];
    return hh.platform.request(method, `sip:${DEVICE_ID}@127.0.0.1:${hh.device.localSipPort()}`, { callId, fromTag, toTag, toUri: `sip:${CH}@127.0.0.1:${hh.device.localSipPort()}`, ...extra });
  }

  function send(data: Buffer) {
    (h as Harness).platform.sendTo(data, { address: '127.0.0.1', port: (h as Harness).device.localSipPort() });
  }

  for (const mode of ['UDP', 'TCP-PASSIVE', 'TCP-ACTIVE'] as const) {
    it(`answers a ${mode} INVITE with 100, then 200 whose SDP is right line by line; starts media on ACK`, async () => {
      h = await startHarness();
      const invites: StreamRequest[] = [];
      h.device.on('invite', (r: StreamRequest) => invites.push(r));
      const inv = invite(mode, CH, { ssrc: '0012345678', port: 30444 });
      const trying = h.platform.next((m) => m.status === 100 && header(m, 'call-id') === inv.callId);
      const ok = await h.ask(inv.data, inv.callId);
      await trying;
      assert.equal(ok.status, 200);
      assert.match(header(ok, 'to') ?? '', /;tag=/);
      assert.match(header(ok, 'contact') ?? '', new RegExp(`<sip:${DEVICE_ID}@127\\.0\\.0\\.1:${h.device.localSipPort()}>`));
      assert.equal(header(ok, 'content-type')?.toLowerCase(), 'application/sdp');
      const lines = ok.body.toString('latin1').split('\r\n');
      const expected = ['v=0', `o=${DEVICE_ID} 0 0 IN IP4 127.0.0.1`, 's=Play', 'c=IN IP4 127.0.0.1', 't=0 0'];
      if (mode === 'UDP') expected.push('m=video 31000 RTP/AVP 96');
      else expected.push('m=video 31000 TCP/RTP/AVP 96', mode === 'TCP-PASSIVE' ? 'a=setup:active' : 'a=setup:passive', 'a=connection:new');
      expected.push('a=sendonly', 'a=rtpmap:96 PS/90000', 'y=0012345678', 'f=', '');
      assert.deepEqual(lines, expected);
      assert.equal(invites[0].transport, mode === 'UDP' ? 'udp' : mode === 'TCP-PASSIVE' ? 'tcp-passive' : 'tcp-active');
      assert.equal(invites[0].remotePort, 30444);
      assert.equal(invites[0].ssrc, '0012345678');
      assert.equal(h.handler.started.length, 0, 'no media before ACK');
      const acked = new Promise<string>((r) => h!.device.once('ack', r));
      send(ack(ok, inv.callId, inv.fromTag).data);
      assert.equal(await acked, inv.callId);
      assert.deepEqual(h.handler.started, [inv.callId]);
      assert.equal(h.device.activeSessions()[0].state, 'confirmed');
      assert.equal(h.device.activeSessions()[0].channelId, CH);
    });
  }

  it('retransmits the 200 over UDP until the ACK arrives', async () => {
    h = await startHarness();
    const inv = invite('UDP');
    const ok = await h.ask(inv.data, inv.callId);
    await delay(1900);
    const oks = () => h!.platform.received.filter((m) => m.status === 200 && header(m, 'call-id') === inv.callId).length;
    const before = oks();
    assert.ok(before >= 3, `200 sent ${before} times`);
    send(ack(ok, inv.callId, inv.fromTag).data);
    await delay(2200);
    assert.ok(oks() <= before + 1, 'retransmission stopped');
  });

  it('ends a session on BYE from the platform and on a device BYE, and sends MediaStatus in the INVITE\'s Call-ID', async () => {
    h = await startHarness();
    const byes: Array<[string, string]> = [];
    h.device.on('bye', (c: string, by: string) => byes.push([c, by]));
    const a = invite('UDP');
    const okA = await h.ask(a.data, a.callId);
    send(ack(okA, a.callId, a.fromTag).data);
    await delay(50);
    const byeA = inDialog('BYE', okA, a.callId, a.fromTag);
    assert.equal((await h.ask(byeA.data, byeA.callId)).status, 200);
    assert.deepEqual(byes, [[a.callId, 'platform']]);
    assert.equal(h.handler.stopped[0].callId, a.callId);
    assert.equal(h.device.activeSessions().length, 0);
    // A second BYE for the same call: no such dialog.
    const again = inDialog('BYE', okA, a.callId, a.fromTag);
    assert.equal((await h.ask(again.data, again.callId)).status, 481);

    const b = invite('TCP-PASSIVE', CH, { s: 'Download', t: '1708484400 1708488000', ssrc: '1200000009', extra: ['a=downloadspeed:4'] });
    const okB = await h.ask(b.data, b.callId);
    send(ack(okB, b.callId, b.fromTag).data);
    await delay(50);
    const notify = h.platform.next((m) => m.method === 'MESSAGE' && header(m, 'call-id') === b.callId);
    const ms = h.device.sendMediaStatus(b.callId);
    const n = await notify;
    assert.match(n.body.toString('latin1'), /<NotifyType>121<\/NotifyType>/);
    assert.match(header(n, 'from') ?? '', /;tag=/);
    assert.match(header(n, 'to') ?? '', new RegExp(`tag=${b.fromTag}`));
    h.platform.reply(n, 200, 'OK');
    await ms;
    const byeSeen = h.platform.next((m) => m.method === 'BYE' && header(m, 'call-id') === b.callId);
    const ending = h.device.endSession(b.callId, 'camera gone');
    const bye = await byeSeen;
    assert.equal(bye.uri, `sip:34020000002000000001@127.0.0.1:${h.platform.port}`, 'BYE goes to the INVITE Contact');
    assert.match(header(bye, 'to') ?? '', new RegExp(`tag=${b.fromTag}`));
    assert.ok(Number(header(bye, 'cseq')?.split(' ')[0]) > Number(header(n, 'cseq')?.split(' ')[0]));
    h.platform.reply(bye, 200, 'OK');
    await ending;
    assert.deepEqual(byes[1], [b.callId, 'device']);
    assert.ok(h.handler.stopped.some((s) => s.callId === b.callId && s.reason === 'camera gone'));
  });

  it('answers CANCEL before the 200 with 200 and 487, and stops the media side', async () => {
    h = await startHarness();
    h.handler.delayMs = 800;
    const cancels: string[] = [];
    h.device.on('cancel', (c: string) => cancels.push(c));
    const inv = invite('UDP');
    const final = h.platform.next((m) => m.status !== undefined && m.status >= 200 && header(m, 'call-id') === inv.callId && /INVITE/.test(header(m, 'cseq') ?? ''), 3000);
    send(inv.data);
    await h.platform.next((m) => m.status === 100 && header(m, 'call-id') === inv.callId);
    const cseq = Number(/CSeq: (\d+)/.exec(inv.data.toString('latin1'))?.[1]);
    const cancel = h.platform.request('CANCEL', `sip:${CH}@127.0.0.1:${h.device.localSipPort()}`, { callId: inv.callId, cseq, fromTag: inv.fromTag, branch: inv.branch });
    const cOk = await h.ask(cancel.data, inv.callId);
    assert.equal(cOk.status, 200);
    assert.match(header(cOk, 'cseq') ?? '', /CANCEL/);
    assert.equal((await final).status, 487);
    assert.deepEqual(cancels, [inv.callId]);
    assert.deepEqual(h.handler.aborted, [inv.callId]);
    await delay(900);
    assert.ok(h.handler.stopped.some((s) => s.callId === inv.callId));
    assert.equal(h.platform.received.filter((m) => m.status === 200 && header(m, 'call-id') === inv.callId && /INVITE/.test(header(m, 'cseq') ?? '')).length, 0, 'no 200 after CANCEL');
  });

  it('turns MANSRTSP INFO into playback-control events; a malformed body gets 400 and the session goes on', async () => {
    h = await startHarness();
    const cmds: MansRtspCommand[] = [];
    h.device.on('playback-control', (_c: string, cmd: MansRtspCommand) => cmds.push(cmd));
    const inv = invite('UDP', CH, { s: 'Playback', t: '1708484400 1708531199', ssrc: '1200000001' });
    const ok = await h.ask(inv.data, inv.callId);
    assert.match(ok.body.toString(), /s=Playback\r\n/);
    assert.match(ok.body.toString(), /t=1708484400 1708531199/);
    send(ack(ok, inv.callId, inv.fromTag).data);
    const bodies = ['PLAY RTSP/1.0\r\nCSeq: 123456789\r\nScale: 2.000000\r\n', 'PAUSE RTSP/1.0\r\nCSeq: 5\r\nPauseTime: now\r\n', 'PLAY RTSP/1.0\r\nCSeq: 6\r\nRange: npt=now-\r\n', 'PLAY RTSP/1.0\r\nCSeq: 7\r\nRange: npt=120-\r\n'];
    for (const body of bodies) {
      const info = inDialog('INFO', ok, inv.callId, inv.fromTag, { contentType: 'Application/MANSRTSP', body: Buffer.from(body) });
      assert.equal((await h.ask(info.data, inv.callId)).status, 200);
    }
    const bad = inDialog('INFO', ok, inv.callId, inv.fromTag, { contentType: 'Application/MANSRTSP', body: Buffer.from('JUMP RTSP/1.0\r\nCSeq: x\r\n') });
    assert.equal((await h.ask(bad.data, inv.callId)).status, 400);
    assert.deepEqual(cmds, [
      { method: 'PLAY', cseq: 123456789, scale: 2 },
      { method: 'PAUSE', cseq: 5, pauseTime: 'now' },
      { method: 'PLAY', cseq: 6, range: { from: 'now' } },
      { method: 'PLAY', cseq: 7, range: { from: 120 } },
    ]);
    assert.equal(h.device.activeSessions().length, 1);
  });

  it('refuses with 404 unknown channels, 480 offline ones, 488/400 bad offers, and maps media failures to readable 4xx/5xx', async () => {
    h = await startHarness({ device: { inviteTimeoutMs: 300 } });
    const status = async (data: Buffer, callId: string) => (await h!.ask(data, callId)).status;
    let inv = invite('UDP', '34020000001329999999');
    assert.equal(await status(inv.data, inv.callId), 404);
    inv = invite('UDP', OFFLINE_CH);
    assert.equal(await status(inv.data, inv.callId), 480);
    h.handler.failWith = busyError();
    inv = invite('UDP');
    assert.equal(await status(inv.data, inv.callId), 486);
    h.handler.failWith = new Error('ffmpeg exploded');
    inv = invite('UDP');
    const r500 = await h.ask(inv.data, inv.callId);
    assert.equal(r500.status, 500);
    assert.match(r500.reason ?? '', /ffmpeg exploded/);
    h.handler.failWith = undefined;
    h.handler.delayMs = 1000;
    inv = invite('UDP');
    const r503 = await h.ask(inv.data, inv.callId);
    assert.equal(r503.status, 503);
    assert.match(r503.reason ?? '', /not ready within 300 ms/);
    assert.ok(h.handler.stopped.some((s) => s.callId === inv.callId));
    h.handler.delayMs = 0;
    inv = invite('UDP', CH, { edit: (sdp) => sdp.replace(/m=video .*\r\n/, 'm=video 30000 RTP/AVP 8\r\n') });
    const r488 = await h.ask(inv.data, inv.callId);
    assert.equal(r488.status, 488);
    assert.match(r488.reason ?? '', /no PS payload/);
    inv = invite('UDP', CH, { edit: (sdp) => sdp.replace(/c=IN IP4 .*\r\n/g, '') });
    assert.equal(await status(inv.data, inv.callId), 400);
  });

  it('answers a retransmitted INVITE with 100 while preparing and with the same final response after', async () => {
    h = await startHarness();
    h.handler.delayMs = 400;
    const inv = invite('UDP');
    send(inv.data);
    await delay(100);
    const since = h.platform.received.length;
    send(inv.data);
    await h.platform.waitFor((m) => m.status === 100 && header(m, 'call-id') === inv.callId, 1000, since);
    const ok = await h.platform.waitFor((m) => m.status === 200 && header(m, 'call-id') === inv.callId, 2000);
    assert.equal(h.handler.prepared.length, 1, 'prepared once');
    const after = h.platform.received.length;
    send(inv.data);
    const again = await h.platform.waitFor((m) => m.status === 200 && header(m, 'call-id') === inv.callId, 1000, after);
    assert.equal(header(again, 'to'), header(ok, 'to'));
    send(ack(ok, inv.callId, inv.fromTag).data);
  });

  it('answers 503 when no stream handler is set', async () => {
    h = await startHarness({ device: { streamHandler: undefined } });
    const inv = invite('UDP');
    const r = await h.ask(inv.data, inv.callId);
    assert.equal(r.status, 503);
  });

  it('ends open sessions with BYE and unregisters on stop()', async () => {
    h = await startHarness();
    const inv = invite('UDP');
    const ok = await h.ask(inv.data, inv.callId);
    send(ack(ok, inv.callId, inv.fromTag).data);
    await delay(50);
    const t0 = Date.now();
    await h.device.stop();
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(h.platform.received.some((m) => m.method === 'BYE' && header(m, 'call-id') === inv.callId));
    const lastReg = h.platform.received.filter((m) => m.method === 'REGISTER').pop();
    assert.equal(lastReg && header(lastReg, 'expires'), '0');
    assert.equal(h.device.state, 'unregistered');
  });
});
