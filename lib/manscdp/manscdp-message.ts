/**
 * Reading MANSCDP bodies (GB28181-2016 Annex A) safely: a size cap, no DOCTYPE or entity
 * declarations (no XXE, no entity expansion), well-formedness checked before parsing.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { GatewayError } from '../errors';
import { decodeXmlBody } from './xml-charset';

export const MAX_MANSCDP_BYTES = 64 * 1024;

export type ManscdpRoot = 'Query' | 'Control' | 'Notify' | 'Response';

/** A parsed element: text, attributes under `@_name`, repeated children as arrays. */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [key: string]: XmlValue;
}

export interface ManscdpMessage {
  root: ManscdpRoot;
  cmdType: string;
  sn: string;
  deviceId: string;
  /** The root element's children. */
  fields: XmlObject;
  charset: string;
}

/** code: MANSCDP_TOO_LARGE | MANSCDP_FORBIDDEN | MANSCDP_MALFORMED. */
export class ManscdpError extends GatewayError {}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

export function parseManscdp(body: Buffer): ManscdpMessage {
  if (body.length > MAX_MANSCDP_BYTES) throw new ManscdpError('MANSCDP_TOO_LARGE', `MANSCDP body of ${body.length} bytes exceeds ${MAX_MANSCDP_BYTES}`);
  if (body.length === 0) throw new ManscdpError('MANSCDP_MALFORMED', 'empty MANSCDP body');
  const { text, charset } = decodeXmlBody(body);
  if (/<!DOCTYPE|<!ENTITY|<!\[CDATA\[[^\]]*<!ENTITY/i.test(text)) throw new ManscdpError('MANSCDP_FORBIDDEN', 'DOCTYPE and entity declarations are not accepted');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new ManscdpError('MANSCDP_MALFORMED', `malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch (e) {
    throw new ManscdpError('MANSCDP_MALFORMED', `malformed XML: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null) throw new ManscdpError('MANSCDP_MALFORMED', 'no root element');
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (roots.length !== 1) throw new ManscdpError('MANSCDP_MALFORMED', `expected one root element, found ${roots.length}`);
  const root = roots[0];
  if (!['Query', 'Control', 'Notify', 'Response'].includes(root)) throw new ManscdpError('MANSCDP_MALFORMED', `unknown root element <${root.slice(0, 40)}>`);
  const fields = (doc as Record<string, unknown>)[root];
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new ManscdpError('MANSCDP_MALFORMED', `<${root}> has no children`);
  const f = fields as XmlObject;
  const cmdType = textOf(f.CmdType);
  if (!cmdType) throw new ManscdpError('MANSCDP_MALFORMED', 'no CmdType');
  return { root: root as ManscdpRoot, cmdType, sn: textOf(f.SN) ?? '', deviceId: textOf(f.DeviceID) ?? '', fields: f, charset };
}

/** The text of an element (first one if repeated), trimmed; undefined when absent or not text. */
export function textOf(v: XmlValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v.trim();
  if (Array.isArray(v)) return textOf(v[0]);
  const t = v['#text'];
  return typeof t === 'string' ? t.trim() : undefined;
}

export function childOf(v: XmlValue | undefined, name: string): XmlValue | undefined {
  if (v === undefined || typeof v === 'string') return undefined;
  if (Array.isArray(v)) return childOf(v[0], name);
  return v[name];
}
