/**
 * Sends the device's alarms (GB28181-2016 §9.4, Annex A.2.5): as NOTIFYs to the platform's
 * Alarm subscriptions when it has one, otherwise (or when every NOTIFY failed) as a MESSAGE
 * `<Notify>` with CmdType Alarm, which is what devices without subscriptions do and what WVP's
 * AlarmNotifyMessageHandler reads.
 */
import { PlatformConfig } from '../config/gateway-config';
import { Logger } from '../logger';
import { alarmNotify } from '../manscdp/alarm-notify';
import { writeManscdp } from '../manscdp/manscdp-writer';
import { RemoteEndpoint } from '../sip/sip-transport';
import { SubscriptionDialog } from './subscription-dialog';
import { SubscriptionTable } from './subscription-table';

/** An alarm the device reports (GB28181-2016 §9.4, Annex A.2.5 报警通知). */
export interface DeviceAlarm {
  /** Alarm source: a channel ID or the device ID. */
  channelId: string;
  /** AlarmPriority: 1 first-level (highest) .. 4. */
  priority: 1 | 2 | 3 | 4;
  /**
   * AlarmMethod 1..7 (2 device alarm, 5 video alarm, 6 device fault, 7 other). WVP reads
   * Info/AlarmType only for method 5 and does not file method 7 as a device alarm
   * (AlarmNotifyMessageHandler#handForDevice).
   */
  method: number;
  /** AlarmType (for method 2: 1 = video loss). */
  type?: number;
  description?: string;
  /** Default Date.now(); written as AlarmTime in the platform's time zone. */
  timeMs?: number;
  longitude?: number;
  latitude?: number;
}

/** How an alarm left the device: NOTIFY to Alarm subscribers, a MESSAGE, or not at all (not registered, or refused). */
export type AlarmDelivery = 'notify' | 'message' | 'not-sent';

export interface AlarmReporterOptions {
  table: SubscriptionTable;
  deviceId: string;
  platform: PlatformConfig;
  logger: Logger;
  nextSn: () => number;
  registered: () => boolean;
  platformEndpoint: () => RemoteEndpoint;
  /** Sends a MESSAGE to the platform; true on a 2xx. */
  sendMessage: (to: RemoteEndpoint, body: Buffer) => Promise<boolean>;
  /**
   * Always a MESSAGE, even to Alarm subscribers. WVP files an alarm with its channel and stores it
   * only from a MESSAGE (AlarmNotifyMessageHandler#handForDevice); from a NOTIFY it drops the alarm
   * unless `sip.alarm` is on and even then keeps no channel ID (NotifyRequestProcessor#processNotifyAlarm).
   */
  messageOnly?: boolean;
}

export class AlarmReporter {
  constructor(private readonly o: AlarmReporterOptions) {}

  async send(alarm: DeviceAlarm): Promise<AlarmDelivery> {
    const o = this.o;
    const content = alarmNotify(o.nextSn(), { ...alarm, timeMs: alarm.timeMs ?? Date.now() }, o.platform.timeZone);
    // A subscription for one channel only takes that channel's alarms.
    const forThis = (s: SubscriptionDialog): boolean => s.targetId === o.deviceId || s.targetId === alarm.channelId;
    if (!o.messageOnly && o.table.active('Alarm').some(forThis)) {
      const delivered = await o.table.notifyAll('Alarm', [content], forThis);
      if (delivered > 0) return 'notify';
      o.logger.warn('alarm NOTIFY not answered: sending it as a MESSAGE', { channelId: alarm.channelId });
    }
    if (!o.registered()) {
      o.logger.warn('alarm not sent: not registered', { channelId: alarm.channelId });
      return 'not-sent';
    }
    const ok = await o.sendMessage(o.platformEndpoint(), writeManscdp('Notify', content, o.platform.charset));
    return ok ? 'message' : 'not-sent';
  }
}
