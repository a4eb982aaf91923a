import * as assert from 'node:assert/strict';
import { onvifAddressFromRtsp } from '../../lib/onvif/onvif-camera';
import { checkPtzRequest, describePtzRequest } from '../../lib/onvif/ptz-request';

describe('onvif: PTZ requests as data', () => {
  it('accepts well-formed requests of every kind and returns a clean copy', () => {
    const cases: unknown[] = [
      { kind: 'stop', address: 1 },
      { kind: 'move', pan: 'left', tilt: 'up', zoom: 'in', panSpeed: 10, tiltSpeed: 20, zoomSpeed: 3 },
      { kind: 'focus-iris', focus: 'far', focusSpeed: 5, irisSpeed: 0 },
      { kind: 'preset', action: 'call', preset: 255 },
      { kind: 'home', action: 'goto' },
      { kind: 'home-position', enabled: true, resetTime: 30, presetIndex: 0 },
    ];
    for (const c of cases) {
      const r = checkPtzRequest(c);
      assert.ok(r.ok, JSON.stringify(c));
    }
    const stop = checkPtzRequest({ kind: 'stop', address: 1 });
    assert.deepEqual(stop, { ok: true, request: { kind: 'stop' } });
    const moved = checkPtzRequest({ kind: 'move', pan: 'right', panSpeed: 80 });
    assert.deepEqual(moved, { ok: true, request: { kind: 'move', pan: 'right', panSpeed: 80, tiltSpeed: 0, zoomSpeed: 0 } });
    assert.equal(describePtzRequest({ kind: 'move', pan: 'right', tilt: 'up', panSpeed: 80, tiltSpeed: 4, zoomSpeed: 0 }), 'move right/up p=80 t=4 z=0');
  });

  it('names the first problem of a malformed request', () => {
    const reasons = [
      checkPtzRequest('left'),
      checkPtzRequest({ kind: 'spin' }),
      checkPtzRequest({ kind: 'move', pan: 'sideways', panSpeed: 1 }),
      checkPtzRequest({ kind: 'move', pan: 'left', panSpeed: 300 }),
      checkPtzRequest({ kind: 'move', zoom: 'in', zoomSpeed: 16 }),
      checkPtzRequest({ kind: 'preset', action: 'call', preset: 0 }),
      checkPtzRequest({ kind: 'preset', action: 'jump', preset: 3 }),
      checkPtzRequest({ kind: 'home-position', enabled: 'yes' }),
    ].map((r) => (r.ok ? 'ok' : r.reason));
    assert.deepEqual(reasons, [
      'PTZ request must be an object with a kind',
      'unknown PTZ request kind "spin"',
      'pan must be one of left, right',
      'panSpeed must be an integer 0..255',
      'zoomSpeed must be an integer 0..15',
      'preset must be an integer 1..255',
      'action must be one of set, call, delete',
      'enabled must be true or false',
    ]);
  });

  it('ONVIF address defaults to the RTSP host on port 80', () => {
    assert.deepEqual(onvifAddressFromRtsp('rtsp://admin:pw@192.168.1.64:554/Streaming/Channels/101'), { hostname: '192.168.1.64', port: 80 });
    assert.deepEqual(onvifAddressFromRtsp('rtsp://[fe80::1]/live'), { hostname: 'fe80::1', port: 80 });
    assert.equal(onvifAddressFromRtsp('not a url'), undefined);
  });
});
