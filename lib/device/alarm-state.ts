/**
 * Per channel (or device) alarm and guard state, as DeviceStatus reports it (GB28181-2016
 * Annex A.2.6 Alarmstatus): an alarm stays active until the platform resets it (AlarmCmd
 * ResetAlarm, §9.3) or, for video loss, until the video returns; guard is set and reset by
 * GuardCmd. Alarms are reported whatever the guard state: the flow that raises them decides.
 */
export interface AlarmStatus {
  alarmed: boolean;
  guarded: boolean;
}

/** The key of an active alarm: AlarmMethod and AlarmType. */
function alarmKey(method: number, type?: number): string {
  return `${method}:${type ?? ''}`;
}

export const VIDEO_LOSS = { method: 2, type: 1 } as const;

export class AlarmState {
  private readonly active = new Map<string, Set<string>>();
  private readonly guarded = new Set<string>();

  raise(id: string, method: number, type?: number): void {
    let set = this.active.get(id);
    if (!set) {
      set = new Set();
      this.active.set(id, set);
    }
    set.add(alarmKey(method, type));
  }

  /** Clears one kind of alarm; true when the source had it. */
  clear(id: string, method: number, type?: number): boolean {
    const set = this.active.get(id);
    if (!set?.delete(alarmKey(method, type))) return false;
    if (set.size === 0) this.active.delete(id);
    return true;
  }

  /** AlarmCmd ResetAlarm: every alarm of the source; a reset for the device ID resets all. */
  reset(id: string, deviceId: string): string[] {
    const ids = id === deviceId ? [...this.active.keys()] : this.active.has(id) ? [id] : [];
    for (const x of ids) this.active.delete(x);
    return ids;
  }

  /** GuardCmd: for the device ID it applies to the device and every listed channel. */
  setGuard(id: string, on: boolean, deviceId: string, channelIds: string[]): void {
    const ids = id === deviceId ? [deviceId, ...channelIds] : [id];
    for (const x of ids) {
      if (on) this.guarded.add(x);
      else this.guarded.delete(x);
    }
  }

  status(id: string): AlarmStatus {
    return { alarmed: (this.active.get(id)?.size ?? 0) > 0, guarded: this.guarded.has(id) };
  }

  forget(id: string): void {
    this.active.delete(id);
    this.guarded.delete(id);
  }
}
