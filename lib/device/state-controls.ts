/**
 * The DeviceControl commands that change what the device reports (GB28181-2016 §9.3, Annex
 * A.2.3): GuardCmd SetGuard/ResetGuard, AlarmCmd ResetAlarm, RecordCmd Record/StopRecord. Each
 * resolves with the Result of the `<Response>` WVP waits 1 s for (notes §8.6), so the record hook
 * is bounded well under that.
 */
import { Logger } from '../logger';
import { DeviceControlEvent } from '../manscdp/device-control';
import { AlarmState } from './alarm-state';

export interface StateControlsOptions {
  deviceId: string;
  alarms: AlarmState;
  channelIds: () => string[];
  logger: Logger;
  recordCommand?: (channelId: string, action: 'start' | 'stop') => Promise<void>;
  /** Bound on recordCommand (default 800 ms). */
  recordCommandTimeoutMs?: number;
  emit: (event: string, ...args: unknown[]) => void;
}

export class StateControls {
  /** Channels a RecordCmd Record last succeeded on (DeviceStatus Record without a `recording` hook). */
  private readonly recordingIds = new Set<string>();

  constructor(private readonly o: StateControlsOptions) {}

  recording(id: string): boolean {
    return this.recordingIds.has(id);
  }

  async apply(ev: DeviceControlEvent): Promise<boolean> {
    const o = this.o;
    switch (ev.type) {
      case 'guard':
        o.alarms.setGuard(ev.deviceId, ev.action === 'set', o.deviceId, o.channelIds());
        o.logger.info(`guard ${ev.action}`, { channelId: ev.deviceId });
        o.emit('guard', ev.deviceId, ev.action);
        return true;
      case 'alarm-reset':
        o.alarms.reset(ev.deviceId, o.deviceId);
        o.logger.info('alarm reset by the platform', { channelId: ev.deviceId });
        o.emit('alarm-reset', ev.deviceId, 'platform');
        return true;
      case 'record':
        return this.record(ev.deviceId, ev.action, ev.sn);
      default:
        return true;
    }
  }

  private async record(channelId: string, action: 'start' | 'stop', sn: string): Promise<boolean> {
    const o = this.o;
    let ok = true;
    if (o.recordCommand) {
      const limit = o.recordCommandTimeoutMs ?? 800;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), limit);
      });
      try {
        const r = await Promise.race([o.recordCommand(channelId, action).then(() => 'done' as const), late]);
        if (r === 'late') {
          o.logger.warn(`record ${action} not confirmed within ${limit} ms: answered ERROR`, { channelId, sn });
          ok = false;
        }
      } catch (e) {
        o.logger.warn(`record ${action} failed: ${(e as Error).message}`, { channelId, sn });
        ok = false;
      } finally {
        clearTimeout(timer);
      }
    }
    if (ok && action === 'start') this.recordingIds.add(channelId);
    if (ok && action === 'stop') this.recordingIds.delete(channelId);
    return ok;
  }
}
