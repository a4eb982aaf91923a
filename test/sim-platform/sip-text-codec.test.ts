import assert from 'node:assert/strict';
import net from 'node:net';
import iconv from 'iconv-lite';
import {
  addressUri, headerParam, headerValue, headerValues, parseSipDatagram, serializeSipMessage, SipParseError, SipStreamFramer, uriUser,
} from '../../lib/sim/platform/sip-text-codec';
import { verifyDigestResponse } from '../../lib/sim/platform/platform-digest';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { hdr, md5, parseRaw, RawSipDevice } from './raw-sip-device';

const CHINESE_BODY = iconv.encode('<?xml version="1.0" encoding="GB2312"?><Notify><Name>前门</Name></Notify>', 'gb2312');

function rawMessage(body: Buffer, compact = false): Buffer {
  const head = [
    'MESSAGE sip:34020000002000000001@3402000000 SIP/2.0',
    `${compact ? 'v' : 'Via'}: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK0`,
    `${compact ? 'f' : 'From'}: "cam" <sip:34020000001320000001@3402000000>;tag=abc`,
    `${compact ? 't' : 'To'}: <sip:34020000002000000001@3402000000>`,
    `${compact ? 'i' : 'Call-ID'}: x1`,
    'CSeq: 1 MESSAGE',
    `${compact ? 'c' : 'Content-Type'}: Application/MANSCDP+xml`,
    'Subject: a',
    ' continued',
    `${compact ? 'l' : 'Content-Length'}: ${body.length}`,
  ];
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), body]);
}

describe('Platform emulator SIP text codec', () => {
  it('parses compact headers, folded lines, comma-joined Vias and a Content-Length in bytes', () => {
    for (const compact of [false, true]) {
      const msg = parseSipDatagram(rawMessage(CHINESE_BODY, compact));
      assert.equal(msg.kind, 'request');
      assert.equal(headerValue(msg, 'Call-ID'), 'x1');
      assert.equal(headerValues(msg, 'Via').length, 2);
      assert.equal(headerParam(headerValues(msg, 'Via')[0], 'branch'), 'z9hG4bK1');
      assert.equal(headerParam(headerValues(msg, 'Via')[0], 'rport'), '');
      assert.equal(headerParam(headerValue(msg, 'From') ?? '', 'tag'), 'abc');
      assert.equal(uriUser(addressUri(headerValue(msg, 'From') ?? '')), '34020000001320000001');
      assert.equal(headerValue(msg, 'Subject'), 'a continued');
      assert.deepEqual(msg.body, CHINESE_BODY);
      assert.equal(iconv.decode(msg.body, 'gb2312').includes('前门'), true);
    }
  });

  it('rejects a truncated datagram and a bad start line, and writes Content-Length from the bytes', () => {
    const whole = rawMessage(CHINESE_BODY);
    assert.throws(() => parseSipDatagram(whole.subarray(0, whole.length - 3)), SipParseError);
    assert.throws(() => parseSipDatagram(Buffer.from('HELLO\r\n\r\n')), SipParseError);
    const msg = parseSipDatagram(whole);
    const out = parseRaw(serializeSipMessage(msg));
    assert.equal(hdr(out, 'Content-Length'), String(CHINESE_BODY.length));
  });

  it('frames a TCP stream by Content-Length across arbitrary chunk boundaries, skipping CRLF keep-alives', () => {
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), rawMessage(CHINESE_BODY), rawMessage(Buffer.from('x'), true), Buffer.from('\r\n')]);
    for (const size of [1, 7, 64, stream.length]) {
      const framer = new SipStreamFramer();
      const got = [];
      for (let off = 0; off < stream.length; off += size) got.push(...framer.push(stream.subarray(off, off + size)));
      assert.equal(got.length, 2, `chunk size ${size}`);
      assert.deepEqual(got[0].body, CHINESE_BODY);
      assert.deepEqual(got[1].body, Buffer.from('x'));
    }
  });

  it('verifies digests as WVP does: nc re-formatted %08X, qop optional', () => {
    const ha1 = md5('34020000001320000001:3402000000:pw');
    const ha2 = md5('REGISTER:sip:34020000002000000001@3402000000');
    const withQop = md5(`${ha1}:n1:0000000A:c1:auth:${ha2}`);
    const base = 'Digest username="34020000001320000001", realm="3402000000", nonce="n1", uri="sip:34020000002000000001@3402000000"';
    assert.equal(verifyDigestResponse('REGISTER', `${base}, response="${withQop}", qop=auth, nc=0000000a, cnonce="c1"`, 'pw'), true);
    assert.equal(verifyDigestResponse('REGISTER', `${base}, response="${withQop}", qop=auth, nc=0000000a, cnonce="c1"`, 'px'), false);
    assert.equal(verifyDigestResponse('REGISTER', `${base}, response="${md5(`${ha1}:n1:${ha2}`)}"`, 'pw'), true);
  });
});

describe('Platform emulator SIP behaviour', function () {
  this.timeout(10_000);
  let platform: PlatformEmulator;
  afterEach(async () => platform?.stop());

  it('resends the cached answer to a retransmitted REGISTER and retransmits its own unanswered MESSAGE on UDP', async () => {
    platform = new PlatformEmulator({ autoQuery: false });
    const { port } = await platform.start();
    const device = new RawSipDevice('34020000001320000001', port);
    await device.start();
    try {
      let registers = 0;
      platform.on('register', () => registers++);
      const text = [
        'REGISTER sip:34020000002000000001@3402000000 SIP/2.0', `Via: ${device.via('z9hG4bKsame')}`, 'From: <sip:34020000001320000001@3402000000>;tag=1',
        'To: <sip:34020000001320000001@3402000000>', 'Call-ID: dup-1', 'CSeq: 1 REGISTER', `Contact: <sip:34020000001320000001@127.0.0.1:${device.port}>`,
        'Expires: 3600', 'Content-Length: 0', '', '',
      ].join('\r\n');
      device.send(text);
      const first = await device.response('REGISTER');
      device.send(text);
      const second = await device.response('REGISTER');
      assert.equal(first.text, second.text);
      assert.equal(registers, 1);

      const info = platform.queryDeviceInfo('34020000001320000001', 4000);
      const q1 = await device.request('MESSAGE');
      const q2 = await device.request('MESSAGE', 1500); // T1 = 500 ms retransmission
      assert.equal(hdr(q1, 'Via'), hdr(q2, 'Via'));
      device.reply(q2, 200, 'OK');
      device.message(`<?xml version="1.0"?><Response><CmdType>DeviceInfo</CmdType><SN>${/<SN>(\d+)<\/SN>/.exec(q1.body.toString())?.[1]}</SN><DeviceID>34020000001320000001</DeviceID><Result>OK</Result></Response>`);
      assert.equal((await info).Result, 'OK');
    } finally {
      device.close();
    }
  });

  it('survives malformed datagrams and bodies: drops garbage, answers a bad MANSCDP body 400, keeps serving', async () => {
    platform = new PlatformEmulator({ autoQuery: false });
    const { port } = await platform.start();
    const device = new RawSipDevice('34020000001320000001', port);
    await device.start();
    try {
      const problems: string[] = [];
      platform.on('manscdp-problem', (_id, p) => problems.push(p));
      for (const junk of ['', '\r\n\r\n', 'GARBAGE', 'REGISTER sip:x SIP/2.0\r\nVia SIP/2.0/UDP\r\n\r\n', 'MESSAGE sip:x SIP/2.0\r\nContent-Length: 99\r\n\r\nshort']) device.send(junk);
      device.send(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02]));
      assert.equal((await device.registerFully(undefined)).startLine, 'SIP/2.0 200 OK');
      device.message('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Notify><CmdType>Keepalive</CmdType></Notify>');
      assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 400 Bad Request');
      assert.equal(problems.length, 1);
      device.message('<?xml version="1.0"?><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>34020000001320000001</DeviceID><Status>OK</Status></Notify>');
      assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 200 OK');
    } finally {
      device.close();
    }
  });

  it('registers a device over TCP and sends its queries on the device connection', async () => {
    platform = new PlatformEmulator({ transport: 'tcp', autoQuery: false, password: 'pw' });
    const { port } = await platform.start();
    const sock = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    try {
      const framer = new SipStreamFramer();
      const inbox: Buffer[] = [];
      let wake: () => void = () => undefined;
      sock.on('data', (c: Buffer) => {
        for (const m of framer.push(c)) inbox.push(serializeSipMessage(m));
        wake();
      });
      const next = async (): Promise<ReturnType<typeof parseRaw>> => {
        while (!inbox.length) await new Promise<void>((r) => (wake = r));
        return parseRaw(inbox.shift() ?? Buffer.alloc(0));
      };
      const local = `127.0.0.1:${sock.localPort}`;
      const register = (cseq: number, auth?: string): string => [
        'REGISTER sip:34020000002000000001@3402000000 SIP/2.0', `Via: SIP/2.0/TCP ${local};rport;branch=z9hG4bKt${cseq}`,
        'From: <sip:34020000001320000001@3402000000>;tag=t', 'To: <sip:34020000001320000001@3402000000>', 'Call-ID: tcp-1', `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:34020000001320000001@${local};transport=tcp>`, 'Expires: 3600', ...(auth ? [`Authorization: ${auth}`] : []), 'Content-Length: 0', '', '',
      ].join('\r\n');
      sock.write(register(1));
      const challenge = await next();
      const nonce = /nonce="([^"]+)"/.exec(hdr(challenge, 'WWW-Authenticate') ?? '')?.[1];
      const uri = 'sip:34020000002000000001@3402000000';
      const response = md5(`${md5('34020000001320000001:3402000000:pw')}:${nonce}:00000001:cn:auth:${md5(`REGISTER:${uri}`)}`);
      // Written in two halves to prove stream framing on the platform side.
      const second = register(2, `Digest username="34020000001320000001", realm="3402000000", nonce="${nonce}", uri="${uri}", response="${response}", qop=auth, nc=00000001, cnonce="cn"`);
      sock.write(second.slice(0, 50));
      await new Promise((r) => setTimeout(r, 20));
      sock.write(second.slice(50));
      assert.equal((await next()).startLine, 'SIP/2.0 200 OK');
      assert.equal(platform.devices()[0].transport, 'tcp');

      const status = platform.queryDeviceStatus('34020000001320000001', 3000);
      const query = await next();
      assert.match(query.startLine, /^MESSAGE sip:34020000001320000001@127\.0\.0\.1:\d+ SIP\/2\.0$/);
      assert.match(hdr(query, 'Via') ?? '', /^SIP\/2\.0\/TCP /);
      const body = iconv.encode(`<?xml version="1.0" encoding="GB2312"?><Response><CmdType>DeviceStatus</CmdType><SN>${/<SN>(\d+)<\/SN>/.exec(query.body.toString())?.[1]}</SN><DeviceID>34020000001320000001</DeviceID><Result>OK</Result><Online>ONLINE</Online><Status>OK</Status></Response>`, 'gb2312');
      sock.write([`SIP/2.0 200 OK`, `Via: ${hdr(query, 'Via')}`, `From: ${hdr(query, 'From')}`, `To: ${hdr(query, 'To')};tag=x`, `Call-ID: ${hdr(query, 'Call-ID')}`, `CSeq: ${hdr(query, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
      sock.write(Buffer.concat([Buffer.from([
        'MESSAGE sip:34020000002000000001@3402000000 SIP/2.0', `Via: SIP/2.0/TCP ${local};rport;branch=z9hG4bKm1`, 'From: <sip:34020000001320000001@3402000000>;tag=m',
        'To: <sip:34020000002000000001@3402000000>', 'Call-ID: m-1', 'CSeq: 3 MESSAGE', 'Content-Type: Application/MANSCDP+xml', `Content-Length: ${body.length}`, '', '',
      ].join('\r\n')), body]));
      assert.equal((await status).Online, 'ONLINE');
      assert.equal((await next()).startLine, 'SIP/2.0 200 OK');
    } finally {
      sock.destroy();
    }
  });
});
