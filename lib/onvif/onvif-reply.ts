/**
 * Reading ONVIF replies. The `onvif` package hands back xml2js objects run through its `linerase`,
 * which turns text that looks numeric into numbers (a token "1.0" becomes 1); where exact strings
 * matter (profile and preset tokens, names) we parse the reply's raw XML ourselves. Everything is read
 * as `unknown` and narrowed here.
 */
import { XMLParser } from 'fast-xml-parser';

export type Json = Record<string, unknown>;

const soapParser = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false });

/**
 * The SOAP Body of a reply's raw XML, parsed by us: tokens and names stay the exact strings the camera
 * sent (the package's linerase turns "1.0" into 1). Attributes are under `@_name`, text under `#text`.
 */
export function soapBodyOf(xml: string | undefined): Json | undefined {
  if (!xml) return undefined;
  try {
    return asRecord(asRecord(asRecord(soapParser.parse(xml))?.['Envelope'])?.['Body']);
  } catch {
    return undefined;
  }
}

/** Text of an element parsed by soapBodyOf: a string, or an object with `#text` when it has attributes. */
export function soapText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const t = asRecord(v)?.['#text'];
  return typeof t === 'string' ? t : undefined;
}

export function asRecord(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** A repeated element: a list, a single element, or nothing. */
export function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Escapes text that the `onvif` package pastes into its SOAP bodies unescaped (tokens, names). */
export function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
