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
