/**
 * DeviceControl commands (GB28181-2016 §9.3, Annex A.2.3) as typed events for the layer above.
 */
import { childOf, ManscdpMessage, textOf, XmlValue } from './manscdp-message';
import { decodePtzCommand, PtzCommand } from './ptz-command';

interface ControlBase {
  /** The device or channel the command is for (the body's DeviceID). */
  deviceId: string;
  sn: string;
}

export type DeviceControlEvent =
  | (ControlBase & { type: 'ptz'; command: PtzCommand; raw: string })
  | (ControlBase & { type: 'teleboot' })
  | (ControlBase & { type: 'record'; action: 'start' | 'stop' })
  | (ControlBase & { type: 'guard'; action: 'set' | 'reset' })
  | (ControlBase & { type: 'alarm-reset' })
  | (ControlBase & { type: 'keyframe' })
  | (ControlBase & { type: 'home-position'; enabled: boolean; resetTime?: number; presetIndex?: number })
  | (ControlBase & { type: 'drag-zoom'; direction: 'in' | 'out'; length?: number; width?: number; midPointX?: number; midPointY?: number; lengthX?: number; lengthY?: number });

export type DecodedControl = { ok: true; events: DeviceControlEvent[]; needsResponse: boolean } | { ok: false; reason: string };

function num(v: XmlValue | undefined): number | undefined {
  const t = textOf(v);
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Decodes every command a DeviceControl carries. `needsResponse` is set for the commands WVP
 * waits a `<Response>` for (RecordCmd, GuardCmd, AlarmCmd, TeleBoot, HomePosition; notes §8.6).
 * An empty `events` list means a command we do not know.
 */
export function decodeDeviceControl(m: ManscdpMessage): DecodedControl {
  const base: ControlBase = { deviceId: m.deviceId, sn: m.sn };
  const f = m.fields;
  const events: DeviceControlEvent[] = [];
  let needsResponse = false;
  const ptz = textOf(f.PTZCmd);
  if (ptz !== undefined) {
    try {
      events.push({ ...base, type: 'ptz', command: decodePtzCommand(ptz), raw: ptz });
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }
  if (textOf(f.TeleBoot) !== undefined) {
    events.push({ ...base, type: 'teleboot' });
    needsResponse = true;
  }
  const record = textOf(f.RecordCmd);
  if (record !== undefined) {
    if (record !== 'Record' && record !== 'StopRecord') return { ok: false, reason: `unknown RecordCmd "${record.slice(0, 20)}"` };
    events.push({ ...base, type: 'record', action: record === 'Record' ? 'start' : 'stop' });
    needsResponse = true;
  }
  const guard = textOf(f.GuardCmd);
  if (guard !== undefined) {
    if (guard !== 'SetGuard' && guard !== 'ResetGuard') return { ok: false, reason: `unknown GuardCmd "${guard.slice(0, 20)}"` };
    events.push({ ...base, type: 'guard', action: guard === 'SetGuard' ? 'set' : 'reset' });
    needsResponse = true;
  }
  const alarm = textOf(f.AlarmCmd);
  if (alarm !== undefined) {
    // GB28181-2016 Annex A.2.3: the only AlarmCmd is ResetAlarm (what WVP's alarmResetCmd sends).
    if (alarm !== 'ResetAlarm') return { ok: false, reason: `unknown AlarmCmd "${alarm.slice(0, 20)}"` };
    events.push({ ...base, type: 'alarm-reset' });
    needsResponse = true;
  }
  if (textOf(f.IFameCmd) !== undefined || textOf(f.IFrameCmd) !== undefined) events.push({ ...base, type: 'keyframe' });
  if (f.HomePosition !== undefined) {
    const hp = f.HomePosition;
    events.push({ ...base, type: 'home-position', enabled: textOf(childOf(hp, 'Enabled')) === '1', resetTime: num(childOf(hp, 'ResetTime')), presetIndex: num(childOf(hp, 'PresetIndex')) });
    needsResponse = true;
  }
  for (const [tag, direction] of [['DragZoomIn', 'in'], ['DragZoomOut', 'out']] as const) {
    const dz = f[tag];
    if (dz === undefined) continue;
    events.push({
      ...base,
      type: 'drag-zoom',
      direction,
      length: num(childOf(dz, 'Length')),
      width: num(childOf(dz, 'Width')),
      midPointX: num(childOf(dz, 'MidPointX')),
      midPointY: num(childOf(dz, 'MidPointY')),
      lengthX: num(childOf(dz, 'LengthX')),
      lengthY: num(childOf(dz, 'LengthY')),
    });
  }
  return { ok: true, events, needsResponse };
}
