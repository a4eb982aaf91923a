/**
 * GB28181 speed bytes → ONVIF velocities in the generic velocity space (ONVIF PTZ Service Spec §5.7.1:
 * pan/tilt and zoom each in [-1, 1]). Signs follow ONVIF: +x pans right, +y tilts up, +zoom zooms in
 * (tele). Speeds scale linearly: pan/tilt byte / 255, zoom nibble / 15. A direction bit with speed 0
 * still moves at the slowest step, since WVP's panel can send speed 0 and the user pressed an arrow.
 */
import { LensMotion, PtzMotion } from './ptz-request';

export interface PtzVelocity {
  x: number;
  y: number;
  zoom: number;
}

const BYTE_MAX = 255;
const NIBBLE_MAX = 15;

function scale(value: number, max: number): number {
  const clamped = Math.min(Math.max(Math.round(Number.isFinite(value) ? value : 0), 0), max);
  return Math.max(clamped, 1) / max;
}

/** Rounds to 4 decimals so the SOAP text stays short and exact ("0.3137", not "0.31372549019607843"). */
function tidy(v: number): number {
  return Math.round(v * 10000) / 10000;
}

export function velocityFor(m: PtzMotion): PtzVelocity {
  const x = m.pan === 'right' ? scale(m.panSpeed, BYTE_MAX) : m.pan === 'left' ? -scale(m.panSpeed, BYTE_MAX) : 0;
  const y = m.tilt === 'up' ? scale(m.tiltSpeed, BYTE_MAX) : m.tilt === 'down' ? -scale(m.tiltSpeed, BYTE_MAX) : 0;
  const zoom = m.zoom === 'in' ? scale(m.zoomSpeed, NIBBLE_MAX) : m.zoom === 'out' ? -scale(m.zoomSpeed, NIBBLE_MAX) : 0;
  return { x: tidy(x), y: tidy(y), zoom: tidy(zoom) };
}

/** Continuous focus speed for ONVIF Imaging Move (Imaging Service Spec §5.3.1): + far, − near, 0 none. */
export function focusSpeedFor(l: LensMotion): number {
  if (l.focus === 'far') return tidy(scale(l.focusSpeed, BYTE_MAX));
  if (l.focus === 'near') return tidy(-scale(l.focusSpeed, BYTE_MAX));
  return 0;
}

export function isStill(v: PtzVelocity): boolean {
  return v.x === 0 && v.y === 0 && v.zoom === 0;
}
