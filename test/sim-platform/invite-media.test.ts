import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InviteOptions, InviteSession, PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { hdr, RawSip, RawSipDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001110000001';
const CHANNEL = '34020000001320000001';
const SERVER = '34020000002000000001';

function rtp(seq: number, ssrc: number, payload: Buffer, marker = false): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | 96;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(seq * 3600, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

const framed = (pkt: Buffer): Buffer => Buffer.concat([Buffer.from([pkt.length >> 8, pkt.length & 0xff]), pkt]);

function payloads(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.from([0, 0, 1, 0xba]), Buffer.alloc(100 + i * 37, i & 0xff)]));
}

function answerSdp(o: { user: string; port: number; proto: string; setup?: string; ssrc: string }): string {
  const lines = ['v=0', `o=${o.user} 0 0 IN IP4 127.0.0.1`, 's=Play', 'c=IN IP4 127.0.0.1', 't=0 0', `m=video ${o.port} ${o.proto} 96`, 'a=sendonly', 'a=rtpmap:96 PS/90000'];
  if (o.setup) lines.push(`a=setup:${o.setup}`, 'a=connection:new');
  lines.push(`y=${o.ssrc}`, 'f=');
  return lines.join('\r\n') + '\r\n';
}

describe('PlatformEmulator INVITE and media (SIPCommander#playStreamCmd, ZLM RTP server)', function () {
  this.timeout(15_000);
  let platform: PlatformEmulator;
  let device: RawSipDevice;
  let tmp: string;
  const cleanups: Array<() => void> = [];

  beforeEach(async () => {
    platform = new PlatformEmulator({ autoQuery: false, mediaPortRange: [0, 0] });
    await platform.start();
    device = new RawSipDevice(DEVICE_ID, platform.port);
    await device.start();
    await device.registerFully(undefined);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-media-'));
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0)) c();
    device.close();
    await platform.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs an INVITE; the fake device answers 100 then 200 with `answer(offerPort)`; returns session, INVITE and ACK. */
  async function invite(opts: InviteOptions, answer: (offer: RawSip) => string): Promise<{ session: InviteSession; inv: RawSip; ack: RawSip; offerPort: number }> {
    const pending = platform.invite(DEVICE_ID, CHANNEL, opts);
    const inv = await device.request('INVITE');
    device.reply(inv, 100, 'Trying');
    const offerPort = Number(/m=video (\d+) /.exec(inv.body.toString())?.[1]);
    device.reply(inv, 200, 'OK', ['Content-Type: APPLICATION/SDP', `Contact: <sip:${CHANNEL}@127.0.0.1:${device.port}>`], Buffer.from(answer(inv)));
    const ack = await device.request('ACK');
    const session = await pending;
    return { session, inv, ack, offerPort };
  }

  function assertInviteHeaders(inv: RawSip, ssrc: string): void {
    const lines = inv.text.split('\r\n');
    assert.equal(lines[0], `INVITE sip:${CHANNEL}@127.0.0.1:${device.port} SIP/2.0`);
    assert.match(lines[1], new RegExp(`^Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${platform.port};rport;branch=z9hG4bK[0-9a-f]+$`));
    assert.match(lines[2], new RegExp(`^From: <sip:${SERVER}@3402000000>;tag=[0-9a-f]+$`));
    assert.equal(lines[3], `To: <sip:${CHANNEL}@127.0.0.1:${device.port}>`);
    assert.match(lines[4], /^Call-ID: \S+$/);
    assert.match(lines[5], /^CSeq: \d+ INVITE$/);
    assert.equal(lines[6], 'Max-Forwards: 70');
    assert.match(lines[7], /^User-Agent: /);
    assert.equal(lines[8], `Contact: <sip:${SERVER}@127.0.0.1:${platform.port}>`);
    assert.equal(lines[9], `Subject: ${CHANNEL}:${ssrc},${SERVER}:0`);
    assert.equal(lines[10], 'Content-Type: APPLICATION/SDP');
    assert.equal(lines[11], `Content-Length: ${inv.body.length}`);
  }

  it('live over UDP: WVP offer line by line, ACK to the o= user, RTP recorded and PS appended, device BYE answered 200', async () => {
    const out = path.join(tmp, 'udp.ps');
    const { session, inv, ack, offerPort } = await invite({ transport: 'udp', output: out }, () => answerSdp({ user: DEVICE_ID, port: 15060, proto: 'RTP/AVP', ssrc: '0200000001' }));
    assertInviteHeaders(inv, '0200000001');
    assert.deepEqual(inv.body.toString().split('\r\n'), [
      'v=0', `o=${CHANNEL} 0 0 IN IP4 127.0.0.1`, 's=Play', 'c=IN IP4 127.0.0.1', 't=0 0', `m=video ${offerPort} RTP/AVP 96 97 98 99`,
      'a=recvonly', 'a=rtpmap:96 PS/90000', 'a=rtpmap:98 H264/90000', 'a=rtpmap:97 MPEG4/90000', 'a=rtpmap:99 H265/90000', 'y=0200000001', '',
    ]);
    assert.equal(ack.startLine, `ACK sip:${DEVICE_ID}@127.0.0.1:${device.port} SIP/2.0`);
    assert.match(hdr(ack, 'To') ?? '', /;tag=dev200$/);
    assert.equal(hdr(ack, 'CSeq'), (hdr(inv, 'CSeq') ?? '').replace('INVITE', 'ACK'));
    assert.deepEqual(session.sdpProblems, []);
    assert.equal(session.ssrc, '0200000001');
    assert.equal(session.status, 200);

    const sender = dgram.createSocket('udp4');
    cleanups.push(() => sender.close());
    const data = payloads(20);
    for (let i = 0; i < data.length; i++) sender.send(rtp(1000 + i, 200000001, data[i], i === data.length - 1), offerPort, '127.0.0.1');
    sender.send(Buffer.from('not rtp'), offerPort, '127.0.0.1');
    await session.waitForPackets(20, 3000);
    for (const seq of [1025, 1022]) sender.send(rtp(seq, 200000001, Buffer.alloc(0)), offerPort, '127.0.0.1'); // 5 skipped, then 1 late
    await session.waitForPackets(22, 3000);
    assert.deepEqual({ ...session.stats(), firstPacketAt: 0, lastPacketAt: 0 }, { packets: 22, lost: 5, late: 1, rejected: 1, psBytes: Buffer.concat(data).length, firstPacketAt: 0, lastPacketAt: 0 });
    assert.deepEqual(session.packets.slice(0, 20).map((p) => p.seq), data.map((_, i) => 1000 + i));
    assert.ok(session.packets.slice(0, 20).every((p) => p.pt === 96 && p.ssrc === 200000001));
    assert.equal(session.packets[19].marker, true);
    assert.equal(session.psBytes, Buffer.concat(data).length);
    assert.ok(session.firstPacketAt !== undefined);

    const byeSeen = platform.waitForEvent('bye', (id) => id === session.callId, 3000);
    const sessionBye = new Promise<void>((resolve) => session.once('bye', resolve));
    device.send([
      `BYE sip:${SERVER}@127.0.0.1:${platform.port} SIP/2.0`, `Via: ${device.via()}`, `From: ${hdr(ack, 'To')}`, `To: ${hdr(ack, 'From')}`,
      `Call-ID: ${hdr(inv, 'Call-ID')}`, 'CSeq: 5 BYE', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
    ].join('\r\n'));
    assert.equal((await device.response('BYE')).startLine, 'SIP/2.0 200 OK');
    await byeSeen;
    await sessionBye;
    assert.deepEqual(fs.readFileSync(out), Buffer.concat(data));
  });

  it('playback over TCP passive: s=Playback/u=/t=/setup:passive, the device connects, RFC 4571 frames split across writes; bye() from us', async () => {
    const out = path.join(tmp, 'passive.ps');
    const { session, inv, offerPort } = await invite({ transport: 'tcp-passive', sessionType: 'Playback', startTime: 1708444800, endTime: 1708531199, output: out },
      () => answerSdp({ user: CHANNEL, port: 9, proto: 'TCP/RTP/AVP', setup: 'active', ssrc: '1200000001' }));
    assertInviteHeaders(inv, '1200000001');
    assert.deepEqual(inv.body.toString().split('\r\n'), [
      'v=0', `o=${CHANNEL} 0 0 IN IP4 127.0.0.1`, 's=Playback', `u=${CHANNEL}:0`, 'c=IN IP4 127.0.0.1', 't=1708444800 1708531199',
      `m=video ${offerPort} TCP/RTP/AVP 96 97 98 99`, 'a=recvonly', 'a=rtpmap:96 PS/90000', 'a=rtpmap:98 H264/90000', 'a=rtpmap:97 MPEG4/90000',
      'a=rtpmap:99 H265/90000', 'a=setup:passive', 'a=connection:new', 'y=1200000001', '',
    ]);
    assert.deepEqual(session.sdpProblems, []);

    const sock = net.connect({ host: '127.0.0.1', port: offerPort });
    cleanups.push(() => sock.destroy());
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    const data = payloads(30);
    const stream = Buffer.concat(data.map((p, i) => framed(rtp(i, 1200000001, p))));
    for (let off = 0; off < stream.length; off += 333) {
      sock.write(stream.subarray(off, off + 333));
      await new Promise((r) => setImmediate(r));
    }
    await session.waitForPackets(30, 3000);
    assert.deepEqual(session.packets.map((p) => p.seq), data.map((_, i) => i));
    assert.equal(session.psBytes, Buffer.concat(data).length);

    const byeDone = session.bye();
    const bye = await device.request('BYE');
    assert.equal(bye.startLine, `BYE sip:${CHANNEL}@127.0.0.1:${device.port} SIP/2.0`);
    assert.equal(hdr(bye, 'Call-ID'), session.callId);
    assert.match(hdr(bye, 'From') ?? '', new RegExp(`;tag=${session.fromTag}$`));
    assert.equal(hdr(bye, 'To'), `<sip:${CHANNEL}@127.0.0.1:${device.port}>;tag=dev200`);
    device.reply(bye, 200, 'OK');
    await byeDone;
    assert.deepEqual(fs.readFileSync(out), Buffer.concat(data));
  });

  it('download over TCP active: a=setup:active + a=downloadspeed, we connect to the answer c=/m= right after the 200, INFO in-dialog', async () => {
    const server = net.createServer();
    cleanups.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const devPort = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const { session, inv } = await invite({ transport: 'tcp-active', sessionType: 'Download', startTime: 1708444800, endTime: 1708448400, downloadSpeed: 4 },
      () => answerSdp({ user: CHANNEL, port: devPort, proto: 'TCP/RTP/AVP', setup: 'passive', ssrc: '1200000001' }));
    const sdp = inv.body.toString().split('\r\n');
    assert.equal(sdp[2], 's=Download');
    assert.match(sdp[6], /^m=video \d+ TCP\/RTP\/AVP 96 97 98 99$/);
    assert.deepEqual(sdp.slice(12), ['a=setup:active', 'a=connection:new', 'a=downloadspeed:4', 'y=1200000001', '']);
    assert.deepEqual(session.sdpProblems, []);

    const sock = await accepted;
    cleanups.push(() => sock.destroy());
    const data = payloads(10);
    sock.write(Buffer.concat(data.map((p, i) => framed(rtp(500 + i, 1200000001, p)))));
    await session.waitForPackets(10, 3000);
    assert.equal(session.psBytes, Buffer.concat(data).length);

    const status = session.info('PLAY RTSP/1.0\r\nCSeq: 123456789\r\nScale: 2.000000\r\n');
    const info = await device.request('INFO');
    assert.equal(hdr(info, 'Content-Type'), 'Application/MANSRTSP');
    assert.equal(info.body.toString(), 'PLAY RTSP/1.0\r\nCSeq: 123456789\r\nScale: 2.000000\r\n');
    device.reply(info, 200, 'OK');
    assert.equal(await status, 200);

    // MediaStatus 121 in the INVITE's Call-ID (notes §8.5) reaches the session even with another From user.
    const mediaStatus = new Promise<[string, Record<string, string>]>((resolve) => session.once('message', (cmd, fields) => resolve([cmd, fields])));
    device.message(`<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>MediaStatus</CmdType>\r\n<SN>8</SN>\r\n<DeviceID>${CHANNEL}</DeviceID>\r\n<NotifyType>121</NotifyType>\r\n</Notify>\r\n`, { callId: session.callId });
    assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 200 OK');
    const [cmd, fields] = await mediaStatus;
    assert.equal(cmd, 'MediaStatus');
    assert.equal(fields.NotifyType, '121');
    session.close();
  });

  it('lists SDP problems a strict WVP would trip on and rejects a non-2xx answer', async () => {
    const pending = platform.invite(DEVICE_ID, CHANNEL, { transport: 'tcp-passive' });
    const problems = platform.waitForEvent('sdp-problem', undefined, 3000);
    const inv = await device.request('INVITE');
    device.reply(inv, 200, 'OK', ['Content-Type: APPLICATION/SDP'], Buffer.from('v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 9 RTP/AVP 96\r\na=setup:passive\r\ny=200000001\r\n'));
    await device.request('ACK');
    const session = await pending;
    const [, list] = await problems;
    assert.deepEqual(list, session.sdpProblems);
    for (const expected of [/missing o= line/, /missing s= line/, /missing t= line/, /RTP\/AVP does not match/, /setup:active, got passive/, /sendonly/, /not the offered y=0200000001 verbatim/]) {
      assert.ok(list.some((p) => expected.test(p)), `expected a problem matching ${expected}: ${list.join(' | ')}`);
    }
    session.close();

    const rejected = platform.invite(DEVICE_ID, CHANNEL, { transport: 'udp' });
    const inv2 = await device.request('INVITE');
    device.reply(inv2, 488, 'Not Acceptable Here');
    await assert.rejects(rejected, (e: Error & { code?: string }) => e.code === 'PLATFORM_INVITE_REJECTED');
  });

  it('BYEs a session that sends no RTP within mediaTimeoutMs (WVP play-timeout)', async () => {
    const { session } = await invite({ transport: 'udp', mediaTimeoutMs: 300 }, () => answerSdp({ user: DEVICE_ID, port: 9, proto: 'RTP/AVP', ssrc: '0200000001' }));
    const timedOut = new Promise<void>((resolve) => session.once('media-timeout', resolve));
    const bye = await device.request('BYE', 3000);
    await timedOut;
    assert.equal(hdr(bye, 'Call-ID'), session.callId);
    device.reply(bye, 200, 'OK');
    const deadline = Date.now() + 2000;
    while (platform.openSessions().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(platform.openSessions().length, 0);
  });

  it('writes To sip:<channel>@<domain> when inviteToHost is "domain" (older WVP releases)', async () => {
    const legacy = new PlatformEmulator({ autoQuery: false, inviteToHost: 'domain' });
    await legacy.start();
    const dev = new RawSipDevice(DEVICE_ID, legacy.port);
    await dev.start();
    try {
      await dev.registerFully(undefined);
      const pending = legacy.invite(DEVICE_ID, CHANNEL, { transport: 'udp', timeoutMs: 2000 });
      const inv = await dev.request('INVITE');
      assert.equal(hdr(inv, 'To'), `<sip:${CHANNEL}@3402000000>`);
      dev.reply(inv, 486, 'Busy Here');
      await assert.rejects(pending);
    } finally {
      dev.close();
      await legacy.stop();
    }
  });
});
