import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as iconv from 'iconv-lite';
import { digestAuthorization, readChallenge } from '../../lib/sip/digest-auth';
import { parsePlatformDate } from '../../lib/sip/platform-clock';
import { bodyOf, decodeSipMessage, encodeSipMessage, setBody } from '../../lib/sip/sip-codec';
import { SipBindError } from '../../lib/sip/sip-errors';
import { SipEndpoint } from '../../lib/sip/sip-endpoint';
import { SipTransport } from '../../lib/sip/sip-transport';
import { TcpSipFramer, SipFramingError } from '../../lib/sip/tcp-sip-framer';
import { md5 } from '../device/raw-sip-platform';

const REQ = 'MESSAGE sip:1@2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x1\r\nCSeq: 1 MESSAGE\r\n';

describe('sip codec (guards over the sip package)', () => {
  it('counts Content-Length in bytes for a GB2312 body with Chinese text', () => {
    const m = decodeSipMessage(Buffer.from(REQ + 'Content-Length: 0\r\n\r\n'));
    assert.ok(m.ok);
    const body = iconv.encode('<Name>北门摄像机</Name>', 'gbk');
    setBody(m.message, body, 'Application/MANSCDP+xml');
    const wire = encodeSipMessage(m.message);
    const text = wire.toString('latin1');
    assert.match(text, new RegExp(`Content-Length: ${body.length}\r\n`));
    assert.ok(wire.subarray(wire.length - body.length).equals(body));
    const back = decodeSipMessage(wire);
    assert.ok(back.ok);
    assert.equal(iconv.decode(bodyOf(back.message), 'gbk'), '<Name>北门摄像机</Name>');
  });

  it('does not mutate the message it serializes', () => {
    const m = decodeSipMessage(Buffer.from(REQ + 'Content-Length: 0\r\n\r\n'));
    assert.ok(m.ok);
    const before = JSON.stringify(m.message);
    encodeSipMessage(m.message);
    encodeSipMessage(m.message);
    assert.equal(JSON.stringify(m.message), before);
  });

  it('rejects truncated bodies, bad Content-Length, CSeq mismatch and garbage without throwing', () => {
    const cases: Array<[string, boolean]> = [
      [REQ + 'Content-Length: 50\r\n\r\nshort', true],
      [REQ + 'Content-Length: abc\r\n\r\n', true],
      [REQ.replace('CSeq: 1 MESSAGE', 'CSeq: 1 INVITE') + 'Content-Length: 0\r\n\r\n', true],
      [REQ.replace('Call-ID: x1\r\n', '') + '\r\n', false],
      ['\x00\x01\x02garbage\r\n\r\n', false],
      ['MESSAGE sip:1@2 SIP/2.0\r\nVia: nonsense\r\n\r\n', false],
      ['SIP/2.0 999 Bad\r\n\r\n', false],
      [REQ, false],
    ];
    for (const [text, replyable] of cases) {
      const r = decodeSipMessage(Buffer.from(text, 'latin1'));
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.equal(r.replyable !== undefined, replyable, `${text}: ${r.reason}`);
    }
  });
});

describe('TCP framing by bytes', () => {
  const msg = (body: Buffer) => Buffer.concat([Buffer.from(REQ + `Content-Length: ${body.length}\r\n\r\n`), body]);

  it('splits coalesced messages and joins fragments, counting body bytes', () => {
    const body = iconv.encode('中文内容', 'gbk');
    const two = Buffer.concat([msg(body), Buffer.from('\r\n\r\n'), msg(Buffer.from('abc'))]);
    const f = new TcpSipFramer(1024);
    const out: Buffer[] = [];
    for (let i = 0; i < two.length; i += 7) out.push(...f.push(two.subarray(i, i + 7)));
    assert.equal(out.length, 2);
    assert.ok(out[0].subarray(out[0].length - body.length).equals(body));
  });

  it('takes a message without Content-Length as bodiless, and refuses floods', () => {
    const f = new TcpSipFramer(1024);
    assert.equal(f.push(Buffer.from(REQ + '\r\n')).length, 1);
    assert.throws(() => new TcpSipFramer(100).push(Buffer.from(REQ + 'Content-Length: 5000\r\n\r\n')), SipFramingError);
    assert.throws(() => new TcpSipFramer(100).push(Buffer.alloc(20000, 0x41)), SipFramingError);
  });
});

describe('digest (RFC 2617 as WVP checks it)', () => {
  const challenge = readChallenge({ scheme: 'Digest', realm: '"3402000000"', nonce: '"abc123"', qop: '"auth"', algorithm: 'MD5' });

  it('answers qop=auth with nc as 8 hex digits, cnonce and algorithm=MD5', () => {
    assert.ok(challenge);
    const a = digestAuthorization('REGISTER', 'sip:34020000002000000001@3402000000', challenge, { username: '34020000001110000001', password: 'pw' }, 1, 'cn0');
    const ha1 = md5('34020000001110000001:3402000000:pw');
    const ha2 = md5('REGISTER:sip:34020000002000000001@3402000000');
    assert.equal(a.response, md5(`${ha1}:abc123:00000001:cn0:auth:${ha2}`));
    assert.match(a.header, /algorithm=MD5/);
    assert.match(a.header, /nc=00000001/);
    assert.match(a.header, /qop=auth/);
  });

  it('answers without qop as MD5(HA1:nonce:HA2)', () => {
    const c = readChallenge({ scheme: 'Digest', realm: '"r"', nonce: '"n"' });
    assert.ok(c);
    const a = digestAuthorization('REGISTER', 'sip:x@y', c, { username: 'u', password: 'p' });
    assert.equal(a.response, md5(`${md5('u:r:p')}:n:${md5('REGISTER:sip:x@y')}`));
    assert.doesNotMatch(a.header, /qop|nc=/);
  });
});

describe('platform clock', () => {
  it('reads WVP Date headers in Asia/Shanghai and RFC 1123 dates', () => {
    assert.equal(parsePlatformDate('2024-02-21T11:10:36.123', 'Asia/Shanghai'), Date.UTC(2024, 1, 21, 3, 10, 36, 123));
    assert.equal(parsePlatformDate('Wed, 21 Feb 2024 03:10:36 GMT', 'Asia/Shanghai'), Date.UTC(2024, 1, 21, 3, 10, 36));
    assert.equal(parsePlatformDate('nonsense', 'Asia/Shanghai'), undefined);
  });
});

describe('SIP transport binding', () => {
  it('turns a port in use into a rejected start() with SipBindError, UDP and TCP', async () => {
    const a = new SipTransport({ protocol: 'udp', bindIp: '127.0.0.1', port: 0 });
    await a.start();
    const b = new SipTransport({ protocol: 'udp', bindIp: '127.0.0.1', port: a.localPort });
    await assert.rejects(b.start(), (e: unknown) => e instanceof SipBindError && e.code === 'SIP_BIND_FAILED' && /in use/.test(e.message));
    const t1 = new SipTransport({ protocol: 'tcp', bindIp: '127.0.0.1', port: 0 });
    await t1.start();
    const t2 = new SipTransport({ protocol: 'tcp', bindIp: '127.0.0.1', port: t1.localPort });
    await assert.rejects(t2.start(), SipBindError);
    await a.close();
    await t1.close();
  });

  it('survives malformed datagrams and answers a valid request right after, on the same socket', async () => {
    const ep = new SipEndpoint({ protocol: 'udp', bindIp: '127.0.0.1', port: 0, userAgent: 'ua-test' });
    await ep.start();
    ep.on('request', (req) => void ep.respond(req, 200, 'OK'));
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const replies: string[] = [];
    peer.on('message', (b) => replies.push(b.toString('latin1')));
    for (const junk of ['', '\r\n\r\n', 'INVITE\r\n\r\n', 'A'.repeat(60000), REQ + 'Content-Length: 9\r\n\r\nx', Buffer.from([0xff, 0xfe, 0, 0x0d, 0x0a, 0x0d, 0x0a]).toString('latin1')]) {
      peer.send(Buffer.from(junk, 'latin1'), ep.localPort, '127.0.0.1');
    }
    peer.send(Buffer.from(REQ.replace('x1', 'good') + 'Content-Length: 0\r\n\r\n'), ep.localPort, '127.0.0.1');
    const deadline = Date.now() + 2000;
    while (!replies.some((r) => r.includes('Call-ID: good')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const ok = replies.find((r) => r.includes('Call-ID: good'));
    assert.ok(ok, 'valid request answered');
    assert.match(ok, /^SIP\/2\.0 200 OK/);
    assert.match(ok, /User-Agent: ua-test/);
    assert.match(ok, /rport=\d+/);
    // The truncated body with a known Via got a 400 with the reason.
    assert.ok(replies.some((r) => /^SIP\/2\.0 400 /.test(r)));
    peer.close();
    await ep.stop();
  });
});

describe('client transactions', () => {
  // The peer shares our IP (127.0.0.1): with the sip package's own stack it would be answered by an invented 404.
  it('leave the request object unchanged, so it can be re-sent; a peer on our own IP is reached', async () => {
    const ep = new SipEndpoint({ protocol: 'udp', bindIp: '127.0.0.1', port: 0 });
    await ep.start();
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const branches: string[] = [];
    peer.on('message', (b, rinfo) => {
      const text = b.toString('latin1');
      const via = /Via: (.*)\r\n/.exec(text)?.[1] ?? '';
      branches.push(/branch=([^;\s]+)/.exec(via)?.[1] ?? '');
      const head = text.split('\r\n\r\n')[0].split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
      peer.send(Buffer.from(['SIP/2.0 200 OK', ...head, 'Content-Length: 0', '', ''].join('\r\n')), rinfo.port, rinfo.address);
    });
    const req = ep.newRequest({ method: 'OPTIONS', uri: 'sip:x@127.0.0.1', from: { uri: 'sip:a@b', tag: 't' }, to: { uri: 'sip:x@b' }, callId: 'c1', cseq: 1 });
    const before = JSON.stringify(req);
    const to = { address: '127.0.0.1', port: peer.address().port, protocol: 'udp' as const };
    assert.equal((await ep.request(req, to, { timeoutMs: 1000 })).status, 200);
    assert.equal(JSON.stringify(req), before);
    assert.equal((await ep.request(req, to, { timeoutMs: 1000 })).status, 200);
    assert.equal(new Set(branches).size, 2, 'a new branch per transaction');
    assert.equal(req.headers.via?.length, 1);
    peer.close();
    await ep.stop();
  });
});

describe('announced address', () => {
  it('puts contactIp (not the bind address) in Via and Contact, with ;rport and the bound port', async () => {
    const ep = new SipEndpoint({ protocol: 'tcp', bindIp: '127.0.0.1', port: 0, contactIp: '192.0.2.10', userAgent: 'ua' });
    await ep.start();
    const req = ep.newRequest({ method: 'REGISTER', uri: 'sip:p@d', from: { uri: 'sip:a@d', tag: 't' }, to: { uri: 'sip:a@d' }, callId: 'c', cseq: 1, contactUser: 'a' });
    const text = encodeSipMessage(req).toString('latin1');
    assert.match(text, new RegExp(`Via: SIP/2\\.0/TCP 192\\.0\\.2\\.10:${ep.localPort};rport;branch=z9hG4bK`));
    assert.match(text, new RegExp(`Contact: <sip:a@192\\.0\\.2\\.10:${ep.localPort}>`));
    assert.match(text, /User-Agent: ua/);
    assert.ok(ep.localPort > 0);
    await ep.stop();
  });
});
