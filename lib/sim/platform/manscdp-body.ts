/**
 * MANSCDP bodies on the platform side. Reading decodes with the device's configured charset and
 * ignores the XML declaration, as WVP does (SIPRequestProcessorParent#getRootElement uses
 * SAXReader.setEncoding). Writing follows SIPCommander's layout: a GB2312 declaration, CRLF lines.
 */
import iconv from 'iconv-lite';
import { XMLParser } from 'fast-xml-parser';

export type PlatformCharset = 'GB2312' | 'UTF-8';

export interface ManscdpDocument {
  /** Root element: Query, Response, Notify, Control. */
  root: string;
  cmdType: string;
  sn: string;
  deviceId: string;
  /** Leaf values of the root, nested non-list elements flattened as `Parent.Child`. */
  fields: Record<string, string>;
  /** `DeviceList/Item`, `RecordList/Item` or `PresetList/Item` entries, flattened the same way. */
  items: Array<Record<string, string>>;
}

export class ManscdpBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManscdpBodyError';
  }
}

const LIST_NAMES = new Set(['DeviceList', 'RecordList', 'PresetList', 'Alarmstatus']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
  isArray: (name) => name === 'Item',
});

export function decodeManscdpBody(body: Buffer, charset: PlatformCharset): string {
  return iconv.decode(body, charset === 'GB2312' ? 'gb18030' : 'utf8');
}

export function encodeManscdpBody(xml: string, charset: PlatformCharset): Buffer {
  return iconv.encode(xml, charset === 'GB2312' ? 'gb18030' : 'utf8');
}

function flatten(value: unknown, prefix: string, out: Record<string, string>): void {
  if (value === null || value === undefined) {
    if (prefix) out[prefix] = '';
    return;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    if (prefix) out[prefix] = String(value);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length) flatten(value[0], prefix, out);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '#text') {
        if (prefix) out[prefix] = String(v);
        continue;
      }
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a decoded MANSCDP document; throws ManscdpBodyError on anything that is not one. */
export function parseManscdp(xml: string): ManscdpDocument {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new ManscdpBodyError('DOCTYPE/ENTITY refused');
  let tree: unknown;
  try {
    tree = parser.parse(xml, true);
  } catch (e) {
    throw new ManscdpBodyError(`malformed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isRecord(tree)) throw new ManscdpBodyError('no root element');
  const rootName = Object.keys(tree).find((k) => !k.startsWith('?'));
  if (!rootName) throw new ManscdpBodyError('no root element');
  const rootValue = tree[rootName];
  const root = isRecord(rootValue) ? rootValue : {};
  const fields: Record<string, string> = {};
  const items: Array<Record<string, string>> = [];
  for (const [k, v] of Object.entries(root)) {
    if (LIST_NAMES.has(k) && isRecord(v)) {
      for (const [lk, lv] of Object.entries(v)) {
        if (lk === 'Item' && Array.isArray(lv)) {
          for (const item of lv) {
            const flat: Record<string, string> = {};
            flatten(item, '', flat);
            items.push(flat);
          }
        } else flatten(lv, `${k}.${lk}`, fields);
      }
      continue;
    }
    flatten(v, k, fields);
  }
  return { root: rootName, cmdType: fields.CmdType ?? '', sn: (fields.SN ?? '').trim(), deviceId: (fields.DeviceID ?? '').trim(), fields, items };
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A platform request body in SIPCommander's layout. `extra` keys with a dot become one nested
 * element level (`Info.ControlPriority` → `<Info><ControlPriority>…`).
 */
export function buildPlatformXml(root: 'Query' | 'Control', cmdType: string, sn: number, deviceId: string, extra: Record<string, string> = {}, charset: PlatformCharset = 'GB2312'): string {
  const lines = [`<?xml version="1.0" encoding="${charset}"?>`, `<${root}>`, `<CmdType>${cmdType}</CmdType>`, `<SN>${sn}</SN>`, `<DeviceID>${deviceId}</DeviceID>`];
  const nested = new Map<string, string[]>();
  for (const [k, v] of Object.entries(extra)) {
    const dot = k.indexOf('.');
    if (dot < 0) {
      lines.push(`<${k}>${escapeXml(v)}</${k}>`);
      continue;
    }
    const parent = k.slice(0, dot);
    const list = nested.get(parent) ?? [];
    list.push(`<${k.slice(dot + 1)}>${escapeXml(v)}</${k.slice(dot + 1)}>`);
    nested.set(parent, list);
  }
  for (const [parent, children] of nested) lines.push(`<${parent}>`, ...children, `</${parent}>`);
  lines.push(`</${root}>`);
  return lines.join('\r\n') + '\r\n';
}
