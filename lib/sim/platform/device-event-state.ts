/**
 * What the emulator remembers per device from catalog queries and pushed notifications, so tests can
 * assert the platform's view: channel status after ON/OFF (WVP DeviceChannelService#channelsOnline /
 * channelsOffline), the alarm list (DeviceAlarmService) and the last mobile positions.
 */
import { CatalogChange, MobilePositionReport, PlatformAlarm } from './device-notifications';

export interface PlatformChannelState {
  channelId: string;
  /** WVP compares Status with "ON"; OFF/VLOST/DEFECT notifications make it OFF. */
  status: 'ON' | 'OFF';
  item: Record<string, string>;
  lastEvent?: string;
  updatedAt: number;
}

const POSITION_HISTORY = 100;

export class DeviceEventState {
  private readonly channels = new Map<string, Map<string, PlatformChannelState>>();
  private readonly alarmList: PlatformAlarm[] = [];
  private readonly positionList: MobilePositionReport[] = [];

  private channelMap(deviceId: string): Map<string, PlatformChannelState> {
    let map = this.channels.get(deviceId);
    if (!map) {
      map = new Map();
      this.channels.set(deviceId, map);
    }
    return map;
  }

  /** A complete catalog answer replaces the channel list (WVP resets channels after a sync). */
  seedCatalog(deviceId: string, items: Array<Record<string, string>>): void {
    const map = new Map<string, PlatformChannelState>();
    for (const item of items) {
      const channelId = (item.DeviceID ?? '').trim();
      if (!channelId) continue;
      map.set(channelId, { channelId, status: (item.Status ?? '').trim().toUpperCase() === 'ON' ? 'ON' : 'OFF', item: { ...item }, updatedAt: Date.now() });
    }
    this.channels.set(deviceId, map);
  }

  /**
   * Applies one change; returns false when WVP would change nothing (a status event for a channel it
   * does not know: channelsOnline/channelsOffline only update existing rows).
   */
  applyCatalogChange(deviceId: string, change: CatalogChange): boolean {
    const map = this.channelMap(deviceId);
    const known = map.get(change.channelId);
    const now = Date.now();
    switch (change.event) {
      case 'ON':
      case 'OFF':
      case 'VLOST':
      case 'DEFECT':
        if (!known) return false;
        Object.assign(known, { status: change.event === 'ON' ? 'ON' : 'OFF', lastEvent: change.event, updatedAt: now });
        break;
      case 'ADD':
      case 'UPDATE': {
        const status = (change.item.Status ?? '').trim().toUpperCase() === 'ON' ? 'ON' : 'OFF';
        map.set(change.channelId, { channelId: change.channelId, status, item: { ...change.item }, lastEvent: change.event, updatedAt: now });
        break;
      }
      case 'DEL':
        map.delete(change.channelId);
        break;
    }
    return true;
  }

  channelList(deviceId: string): PlatformChannelState[] {
    return [...(this.channels.get(deviceId)?.values() ?? [])].map((c) => ({ ...c, item: { ...c.item } }));
  }

  channel(deviceId: string, channelId: string): PlatformChannelState | undefined {
    const c = this.channels.get(deviceId)?.get(channelId);
    return c ? { ...c, item: { ...c.item } } : undefined;
  }

  addAlarm(alarm: PlatformAlarm): void {
    this.alarmList.push(alarm);
  }

  alarms(deviceId?: string): PlatformAlarm[] {
    return this.alarmList.filter((a) => deviceId === undefined || a.deviceId === deviceId).map((a) => ({ ...a }));
  }

  clearAlarms(deviceId?: string): void {
    for (let i = this.alarmList.length - 1; i >= 0; i--) if (deviceId === undefined || this.alarmList[i].deviceId === deviceId) this.alarmList.splice(i, 1);
  }

  addPosition(report: MobilePositionReport): void {
    this.positionList.push(report);
    if (this.positionList.length > POSITION_HISTORY) this.positionList.shift();
  }

  positions(deviceId?: string): MobilePositionReport[] {
    return this.positionList.filter((p) => deviceId === undefined || p.deviceId === deviceId).map((p) => ({ ...p }));
  }
}
