/**
 * Writing MANSCDP bodies with xmlbuilder2 in the configured charset, with an XML declaration
 * that names that charset (WVP reads with the device's charset, notes §1.8).
 */
import { create } from 'xmlbuilder2';
import { XmlCharset } from '../config/gateway-config';
import { encodeXmlBody } from './xml-charset';

/** Element content as xmlbuilder2 objects take it: `@attr` keys, arrays for repeated elements, '' for `<X/>`. */
export type XmlContent = { [key: string]: string | number | XmlContent | XmlContent[] | undefined };

export const MANSCDP_CONTENT_TYPE = 'Application/MANSCDP+xml';

function prune(content: XmlContent): XmlContent {
  const out: XmlContent = {};
  for (const [k, v] of Object.entries(content)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) out[k] = v.map(prune);
    else if (typeof v === 'object') out[k] = prune(v);
    else out[k] = typeof v === 'number' ? String(v) : v;
  }
  return out;
}

export function writeManscdp(root: 'Response' | 'Notify' | 'Query' | 'Control', content: XmlContent, charset: XmlCharset): Buffer {
  const xml = create({ version: '1.0', encoding: charset }).ele({ [root]: prune(content) }).end({ prettyPrint: true });
  return encodeXmlBody(xml + '\r\n', charset);
}
