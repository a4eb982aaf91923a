/**
 * The alarm a flow raises through gb28181-device (input topic `alarm`), and the alarm events the
 * device sends out of output 2 (topics `alarm`, `alarm-reset`, `guard`). GB28181-2016 §9.4 and
 * Annex A.2.5 (报警通知): AlarmPriority 1..4 (1 highest), AlarmMethod 1..7, AlarmType by method.
 */
import { AlarmDelivery, DeviceAlarm } from '../device/gb-device';
import { isRecord } from './flow-messages';

/** What a flow sends (msg.topic `alarm`): every field but priority and method is optional. */
export interface AlarmInput {
  /** The channel the alarm is about; default the device itself. */
  channelId?: string;
  priority: 1 | 2 | 3 | 4;
  /** 1 telephone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other. */
  method: number;
  type?: number;
  description?: string;
  /** Unix ms, an ISO 8601 string or a Date; default now. */
  time?: number | string;
  longitude?: number;
  latitude?: number;
}

/** gb28181-device output 2, topic `alarm`: an alarm that left the device (a flow's or a video loss). */
export interface AlarmEventMessage extends DeviceAlarm {
  delivery: AlarmDelivery;
}

/** gb28181-device output 2, topic `alarm-reset`: the platform cleared an alarm (AlarmCmd ResetAlarm). */
export interface AlarmResetMessage {
  deviceId: string;
  channelId: string;
}

/** gb28181-device output 2, topic `guard`: the platform armed or disarmed (GuardCmd SetGuard/ResetGuard). */
export interface GuardMessage {
  deviceId: string;
  /** The ID the command was for: the device or one channel. */
  targetId: string;
  action: 'set' | 'reset';
}

const MAX_DESCRIPTION = 200;

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function integerField(p: Record<string, unknown>, key: string, min: number, max: number, required: boolean): number | undefined {
  const raw = p[key];
  if (raw === undefined || raw === null || raw === '') {
    if (required) throw new Error(`msg.payload.${key} is required (a whole number ${min}..${max})`);
    return undefined;
  }
  const n = numberOf(raw);
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`msg.payload.${key} must be a whole number ${min}..${max} (got ${JSON.stringify(raw)})`);
  return n;
}

function timeField(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) throw new Error('msg.payload.time is an invalid Date');
    return raw.getTime();
  }
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw < 0) throw new Error('msg.payload.time must be Unix milliseconds');
    return raw;
  }
  if (typeof raw === 'string') {
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw new Error(`msg.payload.time must be Unix ms or an ISO 8601 date (got ${JSON.stringify(raw.slice(0, 40))})`);
    return t;
  }
  throw new Error('msg.payload.time must be Unix ms, an ISO 8601 string or a Date');
}

function coordinate(p: Record<string, unknown>, key: 'longitude' | 'latitude', limit: number): number | undefined {
  const raw = p[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = numberOf(raw);
  if (n === undefined || n < -limit || n > limit) throw new Error(`msg.payload.${key} must be degrees from -${limit} to ${limit} (got ${JSON.stringify(raw)})`);
  return n;
}

/**
 * Checks an alarm message from a flow. `deviceId` is used when no channelId is given; `isKnown` says
 * whether an ID is the device or one of its channels (the platform ignores alarms from unknown IDs).
 */
export function readAlarmInput(payload: unknown, deviceId: string, isKnown: (id: string) => boolean): { ok: true; alarm: DeviceAlarm } | { ok: false; problem: string } {
  if (!isRecord(payload)) return { ok: false, problem: 'msg.payload must be an object {channelId, priority, method, type, description, time, longitude, latitude}' };
  try {
    const idRaw = payload.channelId;
    if (idRaw !== undefined && idRaw !== '' && typeof idRaw !== 'string') throw new Error('msg.payload.channelId must be a 20-digit ID string');
    const channelId = typeof idRaw === 'string' && idRaw.trim() ? idRaw.trim() : deviceId;
    if (!/^\d{20}$/.test(channelId)) throw new Error(`msg.payload.channelId must be 20 digits (got "${channelId.slice(0, 30)}")`);
    if (!isKnown(channelId)) throw new Error(`channel ${channelId} is neither this device nor one of its channels`);
    const priority = integerField(payload, 'priority', 1, 4, true) as 1 | 2 | 3 | 4;
    const method = integerField(payload, 'method', 1, 7, true) as number;
    const type = integerField(payload, 'type', 0, 99, false);
    const d = payload.description;
    if (d !== undefined && d !== null && typeof d !== 'string') throw new Error('msg.payload.description must be text');
    const description = typeof d === 'string' && d.trim() ? d.trim() : undefined;
    if (description && description.length > MAX_DESCRIPTION) throw new Error(`msg.payload.description is longer than ${MAX_DESCRIPTION} characters`);
    const timeMs = timeField(payload.time);
    const longitude = coordinate(payload, 'longitude', 180);
    const latitude = coordinate(payload, 'latitude', 90);
    if ((longitude === undefined) !== (latitude === undefined)) throw new Error('msg.payload.longitude and latitude go together');
    return {
      ok: true,
      alarm: {
        channelId,
        priority,
        method,
        ...(type !== undefined ? { type } : {}),
        ...(description ? { description } : {}),
        ...(timeMs !== undefined ? { timeMs } : {}),
        ...(longitude !== undefined && latitude !== undefined ? { longitude, latitude } : {}),
      },
    };
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
}
