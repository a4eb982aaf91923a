/**
 * What the gateway asks a camera to do, in GB28181 terms (GB28181-2016 Annex A.3): the `kind`s and
 * field names match lib/manscdp's decoded PTZCmd (`move`, `stop`, `focus-iris`, `preset`), so a decoded
 * command other than `other` can be passed as is; `home` comes from the HomePosition control (§A.2.3).
 * Speeds are the raw bytes: pan/tilt/focus/iris 0..255, zoom 0..15 (a nibble).
 */
export type PanDirection = 'left' | 'right';
export type TiltDirection = 'up' | 'down';
export type ZoomDirection = 'in' | 'out';

/** Pan/tilt/zoom at the given speeds until the next command (A.3.2, instruction bits 0x01..0x20). */
export interface PtzMotion {
  kind: 'move';
  pan?: PanDirection;
  tilt?: TiltDirection;
  zoom?: ZoomDirection;
  panSpeed: number;
  tiltSpeed: number;
  zoomSpeed: number;
}

/** All direction bits 0 (A.3.2 "停止"): stops pan/tilt/zoom and any focus move. */
export interface PtzStop {
  kind: 'stop';
}

/** Focus/iris (A.3.3, instruction 0x4x): focus far 0x01, near 0x02, iris open 0x04, close 0x08. */
export interface LensMotion {
  kind: 'focus-iris';
  focus?: 'near' | 'far';
  iris?: 'open' | 'close';
  focusSpeed: number;
  irisSpeed: number;
}

/** Presets (A.3.4): set 0x81, call 0x82, delete 0x83; `preset` is our number 1..255. */
export interface PresetAction {
  kind: 'preset';
  action: 'set' | 'call' | 'delete';
  preset: number;
}

/** Home position: go there, or make the current position home (the latter only when enabled in options). */
export interface HomeAction {
  kind: 'home';
  action: 'goto' | 'set';
}

/**
 * GB28181 HomePosition control ("看守位", GB28181-2016 §A.2.3): Enabled 1 turns the guard position on,
 * ResetTime is the idle time in seconds before the camera returns, PresetIndex (0..255, optional) the
 * preset it returns to; Enabled 0 turns it off. Field names match lib/manscdp's `home-position` event.
 */
export interface GuardPosition {
  kind: 'home-position';
  enabled: boolean;
  resetTime?: number;
  presetIndex?: number;
}

export type PtzRequest = PtzMotion | PtzStop | LensMotion | PresetAction | HomeAction | GuardPosition;

/** A short readable form for logs: "move right/up p=80 t=40 z=0". */
export function describePtzRequest(r: PtzRequest): string {
  switch (r.kind) {
    case 'move':
      return `move ${[r.pan, r.tilt, r.zoom && `zoom-${r.zoom}`].filter(Boolean).join('/') || 'none'} p=${r.panSpeed} t=${r.tiltSpeed} z=${r.zoomSpeed}`;
    case 'stop':
      return 'stop';
    case 'focus-iris':
      return `lens ${[r.focus && `focus-${r.focus}`, r.iris && `iris-${r.iris}`].filter(Boolean).join('/') || 'none'} f=${r.focusSpeed} i=${r.irisSpeed}`;
    case 'preset':
      return `preset ${r.action} ${r.preset}`;
    case 'home':
      return `home ${r.action}`;
    case 'home-position':
      return r.enabled ? `guard position on (preset ${r.presetIndex ?? 'home'}, after ${r.resetTime ?? 'default'} s)` : 'guard position off';
  }
}

export type PtzRequestCheck = { ok: true; request: PtzRequest } | { ok: false; reason: string };

class RequestProblem extends Error {}

function speedField(o: Record<string, unknown>, key: string, max: number): number {
  const v = o[key] ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new RequestProblem(`${key} must be an integer 0..${max}`);
  return v;
}

function optionalOneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[]): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const match = allowed.find((a) => a === v);
  if (match === undefined) throw new RequestProblem(`${key} must be one of ${allowed.join(', ')}`);
  return match;
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const v = optionalOneOf(o, key, allowed);
  if (v === undefined) throw new RequestProblem(`${key} must be one of ${allowed.join(', ')}`);
  return v;
}

function integerIn(o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RequestProblem(`${key} must be an integer ${min}..${max}`);
  return v;
}

function parse(o: Record<string, unknown>): PtzRequest {
  switch (o.kind) {
    case 'stop':
      return { kind: 'stop' };
    case 'move': {
      const request: PtzMotion = { kind: 'move', panSpeed: speedField(o, 'panSpeed', 255), tiltSpeed: speedField(o, 'tiltSpeed', 255), zoomSpeed: speedField(o, 'zoomSpeed', 15) };
      const pan = optionalOneOf<PanDirection>(o, 'pan', ['left', 'right']);
      const tilt = optionalOneOf<TiltDirection>(o, 'tilt', ['up', 'down']);
      const zoom = optionalOneOf<ZoomDirection>(o, 'zoom', ['in', 'out']);
      if (pan) request.pan = pan;
      if (tilt) request.tilt = tilt;
      if (zoom) request.zoom = zoom;
      return request;
    }
    case 'focus-iris': {
      const request: LensMotion = { kind: 'focus-iris', focusSpeed: speedField(o, 'focusSpeed', 255), irisSpeed: speedField(o, 'irisSpeed', 255) };
      const focus = optionalOneOf(o, 'focus', ['near', 'far'] as const);
      const iris = optionalOneOf(o, 'iris', ['open', 'close'] as const);
      if (focus) request.focus = focus;
      if (iris) request.iris = iris;
      return request;
    }
    case 'preset':
      return { kind: 'preset', action: oneOf(o, 'action', ['set', 'call', 'delete'] as const), preset: integerIn(o, 'preset', 1, 255) };
    case 'home':
      return { kind: 'home', action: oneOf(o, 'action', ['goto', 'set'] as const) };
    case 'home-position': {
      if (typeof o.enabled !== 'boolean') throw new RequestProblem('enabled must be true or false');
      const request: GuardPosition = { kind: 'home-position', enabled: o.enabled };
      if (o.resetTime !== undefined) {
        if (typeof o.resetTime !== 'number' || !(o.resetTime > 0) || !Number.isFinite(o.resetTime)) throw new RequestProblem('resetTime must be a number of seconds > 0');
        request.resetTime = o.resetTime;
      }
      if (o.presetIndex !== undefined) request.presetIndex = integerIn(o, 'presetIndex', 0, 255);
      return request;
    }
    default:
      throw new RequestProblem(`unknown PTZ request kind ${JSON.stringify(o.kind)}`);
  }
}

/**
 * Checks a PTZ request that arrives as data (a Node-RED message payload a flow may have built or
 * changed) and returns a clean copy, or the first problem found.
 */
export function checkPtzRequest(value: unknown): PtzRequestCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'PTZ request must be an object with a kind' };
  try {
    return { ok: true, request: parse(value as Record<string, unknown>) };
  } catch (e) {
    if (e instanceof RequestProblem) return { ok: false, reason: e.message };
    throw e;
  }
}
