/**
 * Answers the platform's MANSCDP MESSAGEs (GB28181-2016 §9.3–§9.5): the 200 goes out at once
 * (WVP waits 1 s for it, notes §1.4), the answer MESSAGE(s) a little later, once WVP is ready to
 * receive them (notes §8.1), and each Catalog part only after the 200 to the previous one.
 */
import { DeviceConfig, PlatformConfig } from '../config/gateway-config';
import { Logger } from '../logger';
import { basicParamResponse } from '../manscdp/config-download-response';
import { catalogResponses } from '../manscdp/catalog-response';
import { decodeDeviceControl, DeviceControlEvent } from '../manscdp/device-control';
import { deviceInfoResponse } from '../manscdp/device-info-response';
import { deviceStatusResponse, dutyStatus } from '../manscdp/device-status-response';
import { ManscdpError, ManscdpMessage, parseManscdp, textOf } from '../manscdp/manscdp-message';
import { MANSCDP_CONTENT_TYPE, writeManscdp } from '../manscdp/manscdp-writer';
import { deviceControlResponse } from '../manscdp/notify-bodies';
import { PresetItem, presetQueryResponse } from '../manscdp/preset-query-response';
import { RecordItem, recordInfoResponses, RecordQuery } from '../manscdp/record-info-response';
import { ChannelDescriptor } from '../session/stream-contract';
import { formatPlatformTime, parsePlatformDate } from '../sip/platform-clock';
import { randomToken } from '../sip/sip-codec';
import { IncomingRequest, SipEndpoint } from '../sip/sip-endpoint';
import { RemoteEndpoint } from '../sip/sip-transport';
import { AlarmStatus } from './alarm-state';

export interface ManscdpResponderOptions {
  endpoint: SipEndpoint;
  device: DeviceConfig;
  platform: PlatformConfig;
  logger: Logger;
  channels: () => ChannelDescriptor[];
  catalogBatchSize: number;
  answerDelayMs: number;
  recordQuery?: RecordQuery;
  onControl: (event: DeviceControlEvent) => void;
  /**
   * Carries out a control that changes device state (guard, alarm reset, record); resolves with
   * the Result of its `<Response>` (true = OK). Must be bounded: WVP waits 1 s (notes §8.6).
   */
  applyControl?: (event: DeviceControlEvent) => Promise<boolean>;
  onQuery: (cmdType: string, sn: string) => void;
  online: () => boolean;
  /** DeviceStatus Alarmstatus and Record of a channel (or the device). */
  alarmStatus?: (id: string) => AlarmStatus;
  recording?: (id: string) => boolean;
  presetQuery?: (channelId: string) => Promise<PresetItem[]>;
  /** Bound on presetQuery (WVP waits 4 s, notes §8.7). */
  presetTimeoutMs?: number;
}

export class ManscdpResponder {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly o: ManscdpResponderOptions) {}

  open(): void {
    this.closed = false;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async handle(req: IncomingRequest): Promise<void> {
    const o = this.o;
    let m: ManscdpMessage;
    try {
      m = parseManscdp(req.body);
    } catch (e) {
      const err = e as ManscdpError;
      const status = err.code === 'MANSCDP_TOO_LARGE' ? 413 : 400;
      o.logger.warn(`MANSCDP rejected: ${err.message}`, { callId: req.message.headers['call-id'] });
      await o.endpoint.respond(req, status, status === 413 ? 'Request Entity Too Large' : `Bad Request (${oneLine(err.message)})`);
      return;
    }
    if (m.root === 'Notify' || m.root === 'Response') {
      await o.endpoint.respond(req, 200, 'OK');
      o.logger.debug(`platform sent ${m.root}/${m.cmdType}`);
      return;
    }
    const channel = o.channels().find((c) => c.id === m.deviceId);
    if (m.deviceId !== o.device.id && !channel) {
      await o.endpoint.respond(req, 404, 'Not Found (no such device or channel)');
      return;
    }
    if (m.root === 'Control') {
      await this.control(req, m);
      return;
    }
    const known = ['Catalog', 'DeviceInfo', 'DeviceStatus', 'ConfigDownload', 'RecordInfo', 'PresetQuery'];
    await o.endpoint.respond(req, 200, 'OK');
    o.onQuery(m.cmdType, m.sn);
    if (!known.includes(m.cmdType)) {
      o.logger.info(`query ${m.cmdType} not supported; answered 200 only`, { sn: m.sn });
      return;
    }
    this.later(() => this.answer(req.remote, m, channel));
  }

  private async control(req: IncomingRequest, m: ManscdpMessage): Promise<void> {
    const o = this.o;
    if (m.cmdType !== 'DeviceControl') {
      await o.endpoint.respond(req, 200, 'OK');
      o.logger.info(`control ${m.cmdType} not supported; answered 200 only`, { sn: m.sn });
      return;
    }
    const decoded = decodeDeviceControl(m);
    if (!decoded.ok) {
      await o.endpoint.respond(req, 400, `Bad Request (${oneLine(decoded.reason)})`);
      return;
    }
    await o.endpoint.respond(req, 200, 'OK');
    if (decoded.events.length === 0) o.logger.info('DeviceControl without a command we know; answered 200 only', { sn: m.sn });
    for (const ev of decoded.events) o.onControl(ev);
    // Started now, so the Response leaves as soon as both the answer delay and the outcome are over.
    const outcome = this.outcomeOf(decoded.events);
    if (decoded.needsResponse) {
      this.later(async () => {
        const ok = await outcome;
        await this.send(req.remote, writeManscdp('Response', deviceControlResponse(m.sn, m.deviceId, ok), o.platform.charset));
      });
    }
  }

  private async outcomeOf(events: DeviceControlEvent[]): Promise<boolean> {
    const apply = this.o.applyControl;
    if (!apply) return true;
    const results = await Promise.all(
      events.map((ev) =>
        apply(ev).catch((e: unknown) => {
          this.o.logger.warn(`${ev.type} control failed: ${(e as Error).message}`, { channelId: ev.deviceId, sn: ev.sn });
          return false;
        }),
      ),
    );
    return results.every(Boolean);
  }

  private later(fn: () => Promise<unknown>): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn().catch((e: unknown) => this.o.logger.warn(`answer failed: ${(e as Error).message}`));
    }, this.o.answerDelayMs);
    this.timers.add(t);
  }

  private async answer(to: RemoteEndpoint, m: ManscdpMessage, channel?: ChannelDescriptor): Promise<void> {
    const o = this.o;
    const cs = o.platform.charset;
    const d = o.device;
    switch (m.cmdType) {
      case 'Catalog': {
        const parts = catalogResponses(o.channels(), { sn: m.sn, deviceId: d.id, manufacturer: d.manufacturer, model: d.model }, o.catalogBatchSize);
        for (const part of parts) {
          if (this.closed) return;
          // Next part only after the 200 to this one (as WVP does as a device, notes §1.3).
          const ok = await this.send(to, writeManscdp('Response', part, cs));
          if (!ok) return;
        }
        return;
      }
      case 'DeviceInfo':
        await this.send(to, writeManscdp('Response', deviceInfoResponse({ sn: m.sn, deviceId: m.deviceId, deviceName: channel?.name ?? d.name, manufacturer: d.manufacturer, model: d.model, firmware: d.firmware, channelCount: o.channels().length }), cs));
        return;
      case 'DeviceStatus': {
        // For the device: every channel's alarm input; for a channel: its own.
        const ids = channel ? [channel.id] : o.channels().map((c) => c.id);
        const status = o.alarmStatus;
        const recording = o.recording;
        await this.send(to, writeManscdp('Response', deviceStatusResponse({
          sn: m.sn,
          deviceId: m.deviceId,
          online: channel ? channel.online : o.online(),
          deviceTime: formatPlatformTime(Date.now(), o.platform.timeZone),
          recording: recording ? ids.some((id) => recording(id)) : false,
          alarmStatus: status ? ids.map((id) => ({ deviceId: id, duty: dutyStatus(status(id)) })) : undefined,
        }), cs));
        return;
      }
      case 'ConfigDownload':
        await this.send(to, writeManscdp('Response', basicParamResponse({
          sn: m.sn,
          deviceId: d.id,
          name: d.name,
          expiration: o.platform.expires,
          heartBeatInterval: o.platform.keepaliveInterval,
          heartBeatCount: o.platform.keepaliveCount,
          sipServerId: o.platform.id,
          sipServerIp: o.platform.host,
          sipServerPort: o.platform.port,
          domainName: o.platform.domain,
        }), cs));
        return;
      case 'RecordInfo': {
        let items: RecordItem[] = [];
        if (o.recordQuery) {
          const start = parsePlatformDate(textOf(m.fields.StartTime) ?? '', o.platform.timeZone) ?? 0;
          const end = parsePlatformDate(textOf(m.fields.EndTime) ?? '', o.platform.timeZone) ?? Date.now();
          try {
            items = await o.recordQuery(m.deviceId, start, end);
          } catch (e) {
            o.logger.warn(`record query failed: ${(e as Error).message}`, { channelId: m.deviceId });
          }
        }
        for (const part of recordInfoResponses(m.sn, m.deviceId, channel?.name ?? d.name, items, o.catalogBatchSize)) {
          if (!(await this.send(to, writeManscdp('Response', part, cs)))) return;
        }
        return;
      }
      case 'PresetQuery': {
        const presets = await this.presets(m.deviceId, m.sn);
        if (this.closed) return;
        await this.send(to, writeManscdp('Response', presetQueryResponse(m.sn, m.deviceId, presets), cs));
        return;
      }
      default:
        return;
    }
  }

  /** The channel's presets from the hook, bounded; an empty list when it fails or is late (WVP waits 4 s). */
  private async presets(channelId: string, sn: string): Promise<PresetItem[]> {
    const o = this.o;
    if (!o.presetQuery) return [];
    const limit = o.presetTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limit);
    });
    try {
      const r = await Promise.race([o.presetQuery(channelId), late]);
      if (r === 'late') {
        o.logger.warn(`preset query took longer than ${limit} ms; answered with no presets`, { channelId, sn });
        return [];
      }
      // GB28181-2016 §A.2.3: preset numbers 1..255; bounded so the one Response stays one datagram.
      return r.filter((p) => Number.isInteger(p.presetId) && p.presetId >= 0).slice(0, 255);
    } catch (e) {
      o.logger.warn(`preset query failed: ${(e as Error).message}`, { channelId, sn });
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one MESSAGE to the platform; true on a 2xx. */
  async send(to: RemoteEndpoint, body: Buffer): Promise<boolean> {
    const o = this.o;
    const p = o.platform;
    const request = o.endpoint.newRequest({
      method: 'MESSAGE',
      uri: `sip:${p.id}@${p.domain}`,
      from: { uri: `sip:${o.device.id}@${p.domain}`, tag: randomToken(6) },
      to: { uri: `sip:${p.id}@${p.domain}` },
      callId: `${randomToken(12)}@${o.endpoint.contactHost}`,
      cseq: 1,
      body,
      contentType: MANSCDP_CONTENT_TYPE,
    });
    try {
      const r = await o.endpoint.request(request, to, { timeoutMs: 5000 });
      if ((r.status ?? 0) >= 300) o.logger.warn(`platform answered ${r.status} to our MESSAGE`);
      return (r.status ?? 0) < 300;
    } catch (e) {
      o.logger.warn(`MESSAGE to platform failed: ${(e as Error).message}`);
      return false;
    }
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 100);
}
