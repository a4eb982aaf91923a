import * as assert from 'node:assert/strict';
import { buildGbSdpAnswer } from '../../lib/sdp/gb-sdp-answer';
import { parseGbSdpOffer, toStreamRequest } from '../../lib/sdp/gb-sdp-offer';
import { SdpError } from '../../lib/sdp/sdp-error';
import { wvpOffer } from './wvp-offer';

describe('GB28181 SDP offer', () => {
  it('reads UDP, TCP-passive and TCP-active offers', () => {
    assert.equal(parseGbSdpOffer(wvpOffer('UDP')).transport, 'udp');
    assert.equal(parseGbSdpOffer(wvpOffer('TCP-PASSIVE')).transport, 'tcp-passive');
    assert.equal(parseGbSdpOffer(wvpOffer('TCP-ACTIVE')).transport, 'tcp-active');
    const o = parseGbSdpOffer(wvpOffer('UDP', { ssrc: '0100000001', port: 30123, ip: '127.0.0.9' }));
    assert.equal(o.ssrc, '0100000001');
    assert.equal(o.mediaPort, 30123);
    assert.equal(o.connectionIp, '127.0.0.9');
    assert.equal(o.payloadType, 96);
    assert.equal(o.sessionType, 'Play');
  });

  it('reads playback and download ranges, download speed and stream numbers', () => {
    const pb = parseGbSdpOffer(wvpOffer('UDP', { s: 'Playback', t: '1708484400 1708531199', ssrc: '1200000002' }));
    const req = toStreamRequest(pb, { callId: 'c', deviceId: 'd', channelId: 'ch' }, pb.ssrc ?? '');
    assert.equal(req.sessionType, 'Playback');
    assert.equal(req.startTime, 1708484400);
    assert.equal(req.endTime, 1708531199);
    assert.equal(req.ssrc, '1200000002');
    const dl = parseGbSdpOffer(wvpOffer('TCP-PASSIVE', { s: 'Download', t: '1 2', extra: ['a=downloadspeed:4'] }));
    assert.equal(dl.downloadSpeed, 4);
    assert.equal(parseGbSdpOffer(wvpOffer('UDP', { extra: ['a=streamMode:SUB'] })).streamNumber, 1);
    assert.equal(parseGbSdpOffer(wvpOffer('UDP', { extra: ['a=streamnumber:1'] })).streamNumber, 1);
    assert.equal(parseGbSdpOffer(wvpOffer('UDP', { extra: ['a=stream:0'] })).streamNumber, 0);
    assert.equal(parseGbSdpOffer(wvpOffer('UDP', { extra: ['a=streamprofile:1'] })).streamNumber, 1);
    assert.equal(toStreamRequest(parseGbSdpOffer(wvpOffer('UDP')), { callId: 'c', deviceId: 'd', channelId: 'ch' }, '0200000001').startTime, undefined);
  });

  it('rejects malformed SDP with 400 and unsupported offers with 488', () => {
    const status = (text: string) => {
      try {
        parseGbSdpOffer(text);
        return 200;
      } catch (e) {
        assert.ok(e instanceof SdpError);
        return e.sipStatus;
      }
    };
    assert.equal(status(''), 400);
    assert.equal(status('v=1\r\n'), 400);
    assert.equal(status(wvpOffer('UDP').replace(/c=.*\r\n/g, '')), 400);
    assert.equal(status(wvpOffer('UDP').replace('y=0200000001', 'y=abc')), 400);
    assert.equal(status(wvpOffer('UDP').replace('t=0 0', 't=x')), 400);
    assert.equal(status(wvpOffer('UDP').replace('s=Play', 's=Talk')), 488);
    assert.equal(status(wvpOffer('UDP').replace('RTP/AVP 96 97 98 99', 'RTP/SAVP 96')), 488);
    assert.equal(status(wvpOffer('UDP').replace('RTP/AVP 96 97 98 99', 'RTP/AVP 98 99')), 488);
    assert.equal(status(wvpOffer('UDP').replace('m=video', 'm=audio')), 488);
    assert.equal(status(wvpOffer('UDP').replace('IN IP4 127.0.0.1\r\nt', 'IN IP6 ::1\r\nt')), 488);
    assert.equal(status('v=0\r\n' + 'a=x\r\n'.repeat(3000)), 400);
  });
});

describe('GB28181 SDP answer', () => {
  const base = { deviceId: '34020000001110000001', ip: '127.0.0.1', port: 31000, sessionType: 'Play' as const, ssrc: '0200000001' };

  it('answers UDP line by line', () => {
    assert.deepEqual(buildGbSdpAnswer({ ...base, transport: 'udp' }).split('\r\n'), [
      'v=0', 'o=34020000001110000001 0 0 IN IP4 127.0.0.1', 's=Play', 'c=IN IP4 127.0.0.1', 't=0 0',
      'm=video 31000 RTP/AVP 96', 'a=sendonly', 'a=rtpmap:96 PS/90000', 'y=0200000001', 'f=', '',
    ]);
  });

  it('inverts the setup role for TCP and keeps y= verbatim', () => {
    const passive = buildGbSdpAnswer({ ...base, transport: 'tcp-passive', ssrc: '0012345678' }).split('\r\n');
    assert.ok(passive.includes('m=video 31000 TCP/RTP/AVP 96'));
    assert.ok(passive.includes('a=setup:active'));
    assert.ok(passive.includes('a=connection:new'));
    assert.ok(passive.includes('y=0012345678'));
    const active = buildGbSdpAnswer({ ...base, transport: 'tcp-active' }).split('\r\n');
    assert.ok(active.includes('a=setup:passive'));
  });
});
