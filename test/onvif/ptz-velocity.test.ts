import * as assert from 'node:assert/strict';
import { focusSpeedFor, velocityFor } from '../../lib/onvif/ptz-velocity';

describe('onvif: PTZ speed bytes to ONVIF velocities', () => {
  it('signs follow ONVIF: right +x, left -x, up +y, down -y, zoom in +, zoom out -', () => {
    assert.deepEqual(velocityFor({ kind: 'move', pan: 'right', panSpeed: 255, tiltSpeed: 0, zoomSpeed: 0 }), { x: 1, y: 0, zoom: 0 });
    assert.deepEqual(velocityFor({ kind: 'move', pan: 'left', panSpeed: 255, tiltSpeed: 0, zoomSpeed: 0 }), { x: -1, y: 0, zoom: 0 });
    assert.deepEqual(velocityFor({ kind: 'move', tilt: 'up', panSpeed: 0, tiltSpeed: 255, zoomSpeed: 0 }), { x: 0, y: 1, zoom: 0 });
    assert.deepEqual(velocityFor({ kind: 'move', tilt: 'down', panSpeed: 0, tiltSpeed: 255, zoomSpeed: 0 }), { x: 0, y: -1, zoom: 0 });
    assert.deepEqual(velocityFor({ kind: 'move', zoom: 'in', panSpeed: 0, tiltSpeed: 0, zoomSpeed: 15 }), { x: 0, y: 0, zoom: 1 });
    assert.deepEqual(velocityFor({ kind: 'move', zoom: 'out', panSpeed: 0, tiltSpeed: 0, zoomSpeed: 15 }), { x: 0, y: 0, zoom: -1 });
  });

  it('scales linearly: byte/255 for pan and tilt, nibble/15 for zoom; speed 0 with a direction is the slowest step', () => {
    const v = velocityFor({ kind: 'move', pan: 'left', tilt: 'up', zoom: 'in', panSpeed: 51, tiltSpeed: 128, zoomSpeed: 3 });
    assert.equal(v.x, -0.2);
    assert.equal(v.y, 0.502);
    assert.equal(v.zoom, 0.2);
    assert.equal(velocityFor({ kind: 'move', pan: 'right', panSpeed: 0, tiltSpeed: 0, zoomSpeed: 0 }).x, 0.0039);
    // Out-of-range speeds are clamped, never sent outside [-1, 1].
    assert.equal(velocityFor({ kind: 'move', pan: 'right', panSpeed: 999, tiltSpeed: 0, zoomSpeed: 99 }).x, 1);
    assert.equal(velocityFor({ kind: 'move', tilt: 'down', panSpeed: 0, tiltSpeed: -5, zoomSpeed: 0 }).y, -0.0039);
  });

  it('focus far is positive, near negative, none zero', () => {
    assert.equal(focusSpeedFor({ kind: 'focus-iris', focus: 'far', focusSpeed: 255, irisSpeed: 0 }), 1);
    assert.equal(focusSpeedFor({ kind: 'focus-iris', focus: 'near', focusSpeed: 51, irisSpeed: 0 }), -0.2);
    assert.equal(focusSpeedFor({ kind: 'focus-iris', iris: 'open', focusSpeed: 0, irisSpeed: 10 }), 0);
  });
});
