/**
 * Table-driven hostile input: each malformed SIP message, SDP or XML body gets the right 4xx or
 * is dropped, the process stays up, and a valid request right after is answered.
 */
import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { wvpOffer } from '../sdp/wvp-offer';
import { DEVICE_ID } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { delay, header, manscdpQuery, RawMessage, RawSipPlatform } from './raw-sip-platform';

const CH = '34020000001320000001';
type Expect = number | 'drop';
interface Case {
  name: string;
  expect: Expect;
  stranger?: boolean;
  build: (p: RawSipPlatform, deviceUri: string, port: number) => { data: Buffer; callId?: string };
}

const MANSCDP = 'Application/MANSCDP+xml';

function message(body: Buffer | string, contentType = MANSCDP) {
  return (p: RawSipPlatform, uri: string) => p.request('MESSAGE', uri, { contentType, body: typeof body === 'string' ? Buffer.from(body, 'latin1') : body });
}

function control(inner: string) {
  return message(`<?xml version="1.0"?><Control><CmdType>DeviceControl</CmdType><SN>1</SN><DeviceID>${CH}</DeviceID>${inner}</Control>`);
}

/** A request as text, edited: `edit` changes the head/body text before it is sent. */
function edited(method: string, edit: (text: string) => string, body = '') {
  return (p: RawSipPlatform, uri: string) => {
    const r = p.request(method, uri, { contentType: body ? MANSCDP : undefined, body: Buffer.from(body, 'latin1') });
    return { data: Buffer.from(edit(r.data.toString('latin1')), 'latin1'), callId: r.callId };
  };
}

function inviteWith(sdp: string | undefined, channel = CH, contentType = 'APPLICATION/SDP') {
  return (p: RawSipPlatform, _uri: string, port: number) => p.request('INVITE', `sip:${channel}@127.0.0.1:${port}`, { contentType: sdp === undefined ? undefined : contentType, body: Buffer.from(sdp ?? '', 'latin1') });
}

const offer = wvpOffer('UDP');
const QUERY = manscdpQuery('Catalog', 1, DEVICE_ID).toString('latin1');

const CASES: Case[] = [
  // Unparseable SIP: dropped.
  { name: 'empty datagram', expect: 'drop', build: () => ({ data: Buffer.alloc(0) }) },
  { name: 'CRLF keepalive only', expect: 'drop', build: () => ({ data: Buffer.from('\r\n\r\n') }) },
  { name: 'binary garbage', expect: 'drop', build: () => ({ data: Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 9, 9]) }) },
  { name: 'start line only', expect: 'drop', build: () => ({ data: Buffer.from('MESSAGE sip:x@y SIP/2.0\r\n\r\n') }) },
  { name: 'no end of headers (truncated)', expect: 'drop', build: (p, u) => ({ data: p.request('MESSAGE', u).data.subarray(0, 120) }) },
  { name: 'missing Call-ID', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/Call-ID: .*\r\n/, '')) },
  { name: 'missing Via', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/Via: .*\r\n/, '')) },
  { name: 'missing CSeq', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/CSeq: .*\r\n/, '')) },
  { name: 'missing From', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/From: .*\r\n/, '')) },
  { name: 'missing To', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/To: .*\r\n/, '')) },
  { name: 'non-numeric CSeq', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/CSeq: \d+/, 'CSeq: abc')) },
  { name: 'Via without host', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/Via: .*\r\n/, 'Via: SIP/2.0/UDP\r\n')) },
  { name: 'header line without colon', expect: 'drop', build: edited('MESSAGE', (t) => t.replace('Max-Forwards: 70', 'Max-Forwards 70')) },
  { name: 'huge datagram of junk (60 KB)', expect: 'drop', build: () => ({ data: Buffer.alloc(60000, 0x41) }) },
  { name: 'response matching no transaction', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/^MESSAGE \S+ SIP\/2\.0/, 'SIP/2.0 200 OK')) },
  { name: 'response with status 999', expect: 'drop', build: edited('MESSAGE', (t) => t.replace(/^MESSAGE \S+ SIP\/2\.0/, 'SIP/2.0 999 Odd')) },
  { name: 'ACK for no dialog', expect: 'drop', build: (p, u) => p.request('ACK', u) },
  // Addressable but wrong SIP: 400 (RFC 3261 §21.4.1) or 405.
  { name: 'CSeq method differs from request method', expect: 400, build: edited('MESSAGE', (t) => t.replace(/CSeq: (\d+) MESSAGE/, 'CSeq: $1 INVITE')) },
  { name: 'Content-Length larger than the body (truncated)', expect: 400, build: edited('MESSAGE', (t) => t.replace(/Content-Length: \d+/, 'Content-Length: 500'), QUERY) },
  { name: 'Content-Length negative', expect: 400, build: edited('MESSAGE', (t) => t.replace(/Content-Length: \d+/, 'Content-Length: -5'), QUERY) },
  { name: 'Content-Length not a number', expect: 400, build: edited('MESSAGE', (t) => t.replace(/Content-Length: \d+/, 'Content-Length: many'), QUERY) },
  { name: 'Content-Length 0 with a body present (body ignored → empty XML)', expect: 400, build: edited('MESSAGE', (t) => t.replace(/Content-Length: \d+/, 'Content-Length: 0'), QUERY) },
  { name: 'unknown method FOO', expect: 405, build: (p, u) => p.request('FOO', u) },
  { name: 'REGISTER sent to the device', expect: 405, build: (p, u) => p.request('REGISTER', u) },
  { name: 'PUBLISH', expect: 405, build: (p, u) => p.request('PUBLISH', u) },
  { name: 'UPDATE', expect: 405, build: (p, u) => p.request('UPDATE', u) },
  // MANSCDP bodies.
  { name: 'XML not closed', expect: 400, build: message('<?xml version="1.0"?><Query><CmdType>Catalog</CmdType><SN>1</SN>') },
  { name: 'XML mismatched tags', expect: 400, build: message('<Query><CmdType>Catalog</SN></Query>') },
  { name: 'DOCTYPE', expect: 400, build: message(`<?xml version="1.0"?><!DOCTYPE Query><Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>${DEVICE_ID}</DeviceID></Query>`) },
  { name: 'billion laughs', expect: 400, build: message('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Query><CmdType>&c;</CmdType></Query>') },
  { name: 'XXE external entity', expect: 400, build: message('<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]><Query><CmdType>&x;</CmdType></Query>') },
  { name: 'no CmdType', expect: 400, build: message(`<Query><SN>1</SN><DeviceID>${DEVICE_ID}</DeviceID></Query>`) },
  { name: 'unknown root element', expect: 400, build: message(`<Request><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>${DEVICE_ID}</DeviceID></Request>`) },
  { name: 'two root elements', expect: 400, build: message(`<Query><CmdType>Catalog</CmdType></Query><Query><CmdType>Catalog</CmdType></Query>`) },
  { name: 'bare ampersand', expect: 400, build: message(`<Query><CmdType>Catalog</CmdType><SN>1 & 2</SN><DeviceID>${DEVICE_ID}</DeviceID></Query>`) },
  { name: 'empty MESSAGE body', expect: 400, build: message('') },
  { name: 'plain text body', expect: 400, build: message('hello platform', 'text/plain') },
  { name: 'random binary body', expect: 400, build: message(Buffer.from([0x81, 0x30, 0xff, 0x00, 0x3c, 0x3e, 0x90])) },
  { name: 'declared UTF-8 but GB2312 bytes (decodes cleanly as GB): accepted', expect: 200, build: message(iconv.encode(`<?xml version="1.0" encoding="UTF-8"?><Query><CmdType>DeviceInfo</CmdType><SN>3</SN><DeviceID>${DEVICE_ID}</DeviceID><Note>北门</Note></Query>`, 'gbk')) },
  { name: 'query for a device that is not ours', expect: 404, build: message(manscdpQuery('Catalog', 2, '34020000001110009999')) },
  { name: 'unknown query CmdType', expect: 200, build: message(manscdpQuery('MobilePosition', 2, DEVICE_ID)) },
  { name: 'PTZCmd with a bad checksum', expect: 400, build: control('<PTZCmd>A50F010800FA00B8</PTZCmd>') },
  { name: 'PTZCmd too short', expect: 400, build: control('<PTZCmd>A50F0108</PTZCmd>') },
  { name: 'PTZCmd not hex', expect: 400, build: control('<PTZCmd>ZZZZZZZZZZZZZZZZ</PTZCmd>') },
  { name: 'RecordCmd with an unknown value', expect: 400, build: control('<RecordCmd>Maybe</RecordCmd>') },
  // Requests from a stranger (another address, another ID).
  { name: 'stranger asks for the catalog', expect: 403, stranger: true, build: message(manscdpQuery('Catalog', 1, DEVICE_ID)) },
  { name: 'stranger INVITEs', expect: 403, stranger: true, build: inviteWith(offer) },
  { name: 'stranger sends PTZ', expect: 403, stranger: true, build: control('<PTZCmd>A50F010800FA00B7</PTZCmd>') },
  { name: 'stranger SUBSCRIBEs', expect: 403, stranger: true, build: (p, u) => p.request('SUBSCRIBE', u, { extra: ['Event: Catalog', 'Expires: 30'] }) },
  // INVITEs with bad SDP.
  { name: 'INVITE without a body', expect: 415, build: inviteWith(undefined) },
  { name: 'INVITE with a non-SDP body', expect: 415, build: inviteWith('<xml/>', CH, 'application/xml') },
  { name: 'INVITE with an empty SDP', expect: 400, build: inviteWith('') },
  { name: 'SDP garbage', expect: 400, build: inviteWith('this is not sdp\r\n') },
  { name: 'SDP without m=', expect: 400, build: inviteWith(offer.replace(/m=.*\r\n/, '')) },
  { name: 'SDP without c=', expect: 400, build: inviteWith(offer.replace(/c=.*\r\n/, '')) },
  { name: 'SDP without t=', expect: 400, build: inviteWith(offer.replace(/t=.*\r\n/, '')) },
  { name: 'SDP with y= letters', expect: 400, build: inviteWith(offer.replace(/y=.*/, 'y=abcdefghij')) },
  { name: 'SDP with y= too long', expect: 400, build: inviteWith(offer.replace(/y=.*/, 'y=012345678901')) },
  { name: 'SDP with a bad m= line', expect: 400, build: inviteWith(offer.replace(/m=.*/, 'm=video port RTP/AVP 96')) },
  { name: 'SDP audio only', expect: 488, build: inviteWith(offer.replace('m=video', 'm=audio')) },
  { name: 'SDP RTP/SAVP', expect: 488, build: inviteWith(offer.replace('RTP/AVP', 'RTP/SAVP')) },
  { name: 'SDP without PS', expect: 488, build: inviteWith(offer.replace('96 97 98 99', '98 99')) },
  { name: 'SDP s=Talk', expect: 488, build: inviteWith(offer.replace('s=Play', 's=Talk')) },
  { name: 'SDP IPv6', expect: 488, build: inviteWith(offer.replace(/c=IN IP4 \S+/, 'c=IN IP6 ::1')) },
  { name: 'SDP a=setup:holdconn', expect: 488, build: inviteWith(wvpOffer('TCP-PASSIVE').replace('a=setup:passive', 'a=setup:holdconn')) },
  { name: 'INVITE for an unknown channel', expect: 404, build: inviteWith(offer, '34020000001329999999') },
  { name: 'INVITE for an offline channel', expect: 480, build: inviteWith(offer, '34020000001320000005') },
  { name: 're-INVITE for no dialog', expect: 481, build: (p, _u, port) => p.request('INVITE', `sip:${CH}@127.0.0.1:${port}`, { toTag: 'nope', contentType: 'APPLICATION/SDP', body: Buffer.from(offer) }) },
  // In-dialog requests without a dialog.
  { name: 'BYE for an unknown call', expect: 481, build: (p, u) => p.request('BYE', u, { toTag: 'x' }) },
  { name: 'INFO for an unknown call', expect: 481, build: (p, u) => p.request('INFO', u, { toTag: 'x', contentType: 'Application/MANSRTSP', body: Buffer.from('PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: 2.0\r\n') }) },
  { name: 'CANCEL for an unknown call', expect: 481, build: (p, u) => p.request('CANCEL', u) },
];

describe('hostile input (table-driven)', function () {
  this.timeout(60000);
  let h: Harness;
  let stranger: RawSipPlatform;

  before(async () => {
    h = await startHarness();
    stranger = new RawSipPlatform('127.0.0.2', '34020000002000000099');
    await stranger.start();
  });

  after(async () => {
    await h.close();
    await stranger.close();
  });

  it(`has at least 50 cases (${CASES.length})`, () => assert.ok(CASES.length >= 50));

  for (const c of CASES) {
    it(`${c.name} → ${c.expect}`, async () => {
      const from = c.stranger ? stranger : h.platform;
      const port = h.device.localSipPort();
      const { data, callId } = c.build(from, h.deviceUri, port);
      const since = from.received.length;
      const responses = () => from.received.slice(since).filter((m: RawMessage) => m.status !== undefined && m.status >= 200 && (!callId || header(m, 'call-id') === callId));
      from.sendTo(data, { address: '127.0.0.1', port });
      if (c.expect === 'drop') {
        await delay(150);
        assert.deepEqual(responses().map((m) => `${m.status} ${m.reason}`), []);
      } else {
        const r = await from.waitFor((m) => m.status !== undefined && m.status >= 200 && header(m, 'call-id') === callId, 2000, since);
        assert.equal(r.status, c.expect, `${r.status} ${r.reason}`);
        if (r.status >= 400) assert.ok((r.reason ?? '').length > 0, 'a reason phrase');
      }
      // The device is still up and answers a valid request right away.
      const ok = h.platform.request('MESSAGE', h.deviceUri, { contentType: MANSCDP, body: manscdpQuery('DeviceStatus', 9, DEVICE_ID) });
      assert.equal((await h.ask(ok.data, ok.callId, 1000)).status, 200);
    });
  }

  it('survives a burst of 2000 malformed datagrams and answers right after', async () => {
    const port = h.device.localSipPort();
    const junk = CASES.filter((c) => c.expect === 'drop' && !c.name.includes('huge')).map((c) => c.build(h.platform, h.deviceUri, port).data);
    for (let i = 0; i < 2000; i++) {
      h.platform.sendTo(junk[i % junk.length], { address: '127.0.0.1', port });
      if (i % 200 === 199) await delay(5); // stay within the socket's receive buffer: the kernel, not the device, would drop the rest
    }
    await delay(200);
    const ok = h.platform.request('MESSAGE', h.deviceUri, { contentType: MANSCDP, body: manscdpQuery('DeviceInfo', 10, DEVICE_ID) });
    assert.equal((await h.ask(ok.data, ok.callId, 2000)).status, 200);
  });

  it('still registered, still answering, after all of it', async () => {
    assert.equal(h.device.state, 'registered');
    const { data, callId } = h.platform.request('INVITE', `sip:${CH}@127.0.0.1:${h.device.localSipPort()}`, { contentType: 'APPLICATION/SDP', body: Buffer.from(offer) });
    assert.equal((await h.ask(data, callId)).status, 200);
  });
});
