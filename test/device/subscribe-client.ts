/** The platform's side of a subscription, as WVP does it (SIPCommander#*Subscribe, notes §8.7), on the raw test platform. */
import * as iconv from 'iconv-lite';
import { DEVICE_ID } from './device-fixture';
import { Harness } from './device-harness';
import { header, RawMessage } from './raw-sip-platform';

export interface PlatformSubscription {
  callId: string;
  fromTag: string;
  /** The device's To-tag from the 200. */
  toTag: string;
  event: string;
  response: RawMessage;
}

export function subscribeBody(cmdType: string, sn: number, extra = '', deviceId = DEVICE_ID): Buffer {
  return iconv.encode(`<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n${extra}</Query>\r\n`, 'gbk');
}

/** Sends a SUBSCRIBE (new, or in a dialog when `dialog` is given) and resolves with its final response. */
export async function subscribe(h: Harness, opts: { event: string; expires?: number; body?: Buffer; dialog?: PlatformSubscription; noExpires?: boolean }): Promise<PlatformSubscription> {
  const extra = [`Event: ${opts.event}`];
  if (!opts.noExpires) extra.push(`Expires: ${opts.expires ?? 3600}`);
  const d = opts.dialog;
  const { data, callId, fromTag } = h.platform.request('SUBSCRIBE', h.deviceUri, {
    callId: d?.callId,
    fromTag: d?.fromTag,
    toTag: d?.toTag,
    extra,
    contentType: opts.body ? 'Application/MANSCDP+xml' : undefined,
    body: opts.body,
  });
  const response = await h.ask(data, callId, 2000);
  const toTag = /;tag=([^;>\s]+)/.exec(header(response, 'to') ?? '')?.[1] ?? '';
  return { callId, fromTag, toTag, event: opts.event, response };
}

export function isNotify(m: RawMessage, callId?: string): boolean {
  return m.method === 'NOTIFY' && (callId === undefined || header(m, 'call-id') === callId);
}

export function notifyText(m: RawMessage, charset = 'gbk'): string {
  return iconv.decode(m.body, charset);
}

export function cseqOf(m: RawMessage): number {
  return Number((header(m, 'cseq') ?? '').split(/\s+/)[0]);
}
