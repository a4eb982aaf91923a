/**
 * The in-process glue of the nodes (lib/node-glue), without Node-RED: the INVITE bridge's bounds and
 * messages, the health ledger's stall rule, and property validation.
 */
import * as assert from 'node:assert/strict';
import { GatewayError } from '../../lib/errors';
import { StreamRequest } from '../../lib/session/stream-contract';
import { FlowStreamBridge } from '../../lib/node-glue/flow-stream-bridge';
import { StreamRequestMessage, readChannelMessage, readStreamRequestMessage } from '../../lib/node-glue/flow-messages';
import { HealthLedger } from '../../lib/node-glue/health-ledger';
import { localText } from '../../lib/node-glue/localised-text';
import { readDeviceSettings, readRegisterSettings, readSourceSettings } from '../../lib/node-glue/node-settings';

function request(callId: string): StreamRequest {
  return { callId, deviceId: '34020000001180000001', channelId: '34020000001320000001', sessionType: 'Play', transport: 'udp', remoteIp: '127.0.0.1', remotePort: 30000, ssrc: '0100000001', payloadType: 96, streamNumber: 0 };
}

function sipStatusOf(e: unknown): number | undefined {
  return e instanceof GatewayError ? (e.context.sipStatus as number) : undefined;
}

describe('node glue', () => {
  describe('FlowStreamBridge', () => {
    let sent: StreamRequestMessage[];
    let bridge: FlowStreamBridge;
    beforeEach(() => {
      sent = [];
      bridge = new FlowStreamBridge({ deviceNodeId: 'dev1', send: (m) => sent.push(m), sourceNodeOf: () => 'src1', claimTimeoutMs: 80, answerTimeoutMs: 200 });
    });
    afterEach(() => bridge.close());

    it('sends the invite with the device node id and source node id, and resolves with the sender\'s answer; ack and bye follow', async () => {
      const p = bridge.prepare(request('c1'), new AbortController().signal);
      assert.equal(sent[0].event, 'invite');
      assert.equal(sent[0].deviceNodeId, 'dev1');
      assert.equal((sent[0] as { sourceNodeId?: string }).sourceNodeId, 'src1');
      assert.equal(bridge.claim('c1'), true);
      assert.equal(bridge.claim('c1'), false, 'a second sender does not get the same call');
      assert.equal(bridge.answer('c1', { ok: true, localIp: '127.0.0.1', localPort: 30002 }), true);
      assert.deepEqual(await p, { localIp: '127.0.0.1', localPort: 30002 });
      assert.equal(bridge.liveCount(), 1);
      bridge.start('c1');
      bridge.stop('c1', 'BYE from platform');
      assert.deepEqual(sent.slice(1).map((m) => m.event), ['ack', 'bye']);
      assert.equal((sent[2] as { reason: string }).reason, 'BYE from platform');
      assert.equal(bridge.liveCount(), 0);
    });

    it('rejects 503 when no sender claims within the claim bound', async () => {
      const t0 = Date.now();
      await assert.rejects(bridge.prepare(request('c2'), new AbortController().signal), (e) => sipStatusOf(e) === 503 && /no ps-rtp-sender/.test((e as Error).message));
      assert.ok(Date.now() - t0 < 150);
      assert.equal(bridge.answer('c2', { ok: true, localIp: '127.0.0.1', localPort: 1 }), false, 'a late answer is refused');
    });

    it('a claim extends the bound to the answer bound; a claimed request never answered is 503 too', async () => {
      const p = bridge.prepare(request('c3'), new AbortController().signal);
      bridge.claim('c3');
      await new Promise((r) => setTimeout(r, 120));
      bridge.answer('c3', { ok: false, reason: 'camera offline', sipStatus: 480 });
      await assert.rejects(p, (e) => sipStatusOf(e) === 480 && /camera offline/.test((e as Error).message));
      const q = bridge.prepare(request('c4'), new AbortController().signal);
      bridge.claim('c4');
      await assert.rejects(q, (e) => sipStatusOf(e) === 503 && /did not answer/.test((e as Error).message));
    });

    it('a CANCEL (abort) rejects 487 and a stop while preparing tells the sender with a bye', async () => {
      const ac = new AbortController();
      const p = bridge.prepare(request('c5'), ac.signal);
      ac.abort();
      await assert.rejects(p, (e) => sipStatusOf(e) === 487);
      const q = bridge.prepare(request('c6'), new AbortController().signal).catch((e: unknown) => e);
      bridge.claim('c6');
      bridge.stop('c6', 'CANCEL');
      assert.equal(sent[sent.length - 1].event, 'bye');
      await q;
    });
  });

  it('status texts come from the runtime catalogue, English when it has no entry', () => {
    const zh = (key: string, vars?: Record<string, string | number>) => (key === 'dev.status.registered' ? `已注册 · ${vars?.ch} 通道` : key);
    assert.equal(localText(zh, 'dev.status.registered', 'registered · __ch__ ch', { ch: 3 }), '已注册 · 3 通道');
    assert.equal(localText(zh, 'dev.status.idle', 'idle'), 'idle');
    assert.equal(localText(undefined, 'x', '__n__ live', { n: 2 }), '2 live');
  });

  it('reads messages defensively', () => {
    assert.equal(readChannelMessage({ channelId: '123' }).ok, false);
    const r = readChannelMessage({ channelId: '34020000001320000001', online: false, video: { codec: 'H264', width: 10 } });
    assert.ok(r.ok && r.channel.online === false && r.channel.video?.width === 10 && r.channel.name === '34020000001320000001');
    assert.equal(r.ok && r.channel.offlineCause, undefined, 'no cause given: none read (catalog OFF)');
    for (const cause of ['unreachable', 'video-lost', 'defect']) {
      const c = readChannelMessage({ channelId: '34020000001320000001', online: false, offlineCause: cause });
      assert.ok(c.ok && c.channel.offlineCause === cause, cause);
    }
    for (const bad of ['VLOST', 'lost', 3, null]) {
      const c = readChannelMessage({ channelId: '34020000001320000001', online: false, offlineCause: bad });
      assert.ok(!c.ok && /offlineCause must be one of unreachable, video-lost, defect/.test(c.problem), String(bad));
    }
    assert.equal(readStreamRequestMessage({ event: 'invite', callId: 'x', deviceNodeId: 'd', transport: 'sctp', sessionType: 'Play' }), undefined);
    assert.equal(readStreamRequestMessage({ event: 'bye', callId: 'x', deviceNodeId: 'd' })?.event, 'bye');
  });

  it('health ledger: an offline feed is stalled at once, a silent one after the stall time, one request per cooldown', () => {
    let now = 1_000_000;
    const ledger = new HealthLedger({ stallMs: 3000, reconnectCooldownMs: 10000, now: () => now });
    ledger.ingest('channel', { channelId: 'A', sourceNodeId: 'sa', online: true });
    ledger.ingest('channel', { channelId: 'B', sourceNodeId: 'sb', online: true });
    ledger.ingest('stats', { sources: [{ key: 'A/main', state: 'online', fps: 25, bitrate: 1, lastFrameAgeMs: 100, reconnects: 0 }] });
    ledger.ingest('source-state', { key: 'B/main', state: 'offline', reason: '401' });
    assert.deepEqual(ledger.checkStalls().map((r) => r.channelId), ['B']);
    now += 5000; // A's last frame is now 5.1 s old
    assert.deepEqual(ledger.checkStalls().map((r) => [r.channelId, r.sourceNodeId]), [['A', 'sa']]);
    now += 1000;
    assert.deepEqual(ledger.checkStalls(), [], 'both within their cooldown');
    now += 10000;
    assert.equal(ledger.checkStalls().length, 2);
    assert.equal(ledger.ingest('weird', {}), false);
  });

  it('validates node properties with one readable line per problem', () => {
    const reg = readRegisterSettings({ serverId: '34020000002000000001', host: '127.0.0.1', port: '70000', transport: 'sctp', mediaPortMin: 31000, mediaPortMax: 30000, timeZone: 'Mars/Base', passwordEnv: 'X_PW' }, undefined, { X_PW: 'from-env' });
    assert.equal(reg.platform.password, 'from-env');
    assert.equal(reg.platform.domain, '3402000000');
    for (const re of [/port must be/, /transport must be udp or tcp/, /media port range 31000-30000 is empty/, /time zone "Mars\/Base"/]) {
      assert.ok(reg.problems.some((p) => re.test(p)), `${re} in ${JSON.stringify(reg.problems)}`);
    }
    assert.equal(readRegisterSettings({ serverId: '34020000002000000001', host: 'wvp.local' }, 'cred', {}).platform.password, 'cred');
    assert.equal(readRegisterSettings({ serverId: '34020000002000000001', host: 'wvp.local' }, 'cred', {}).platform.alarmsAsMessage, undefined, 'alarms follow the subscription by default');
    assert.equal(readRegisterSettings({ serverId: '34020000002000000001', host: 'wvp.local', alarmsAsMessage: true }, 'cred', {}).platform.alarmsAsMessage, true);
    assert.deepEqual(readDeviceSettings({ deviceId: '34020000001180000001' }).problems, []);
    assert.match(readDeviceSettings({ deviceId: '3402' }).problems[0], /20 digits/);
    const src = readSourceSettings({ channelId: '34020000001320000001', url: 'rtsp://cam/1', subUrl: 'ftp://x', rtspTransport: 'udp' });
    assert.equal(src.rtspTransport, 'udp');
    assert.deepEqual(src.problems, ['sub-stream URL must look like rtsp://host[:port]/path']);
  });
});
