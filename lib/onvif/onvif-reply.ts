/**
 * Narrowing for the `onvif` package's replies: xml2js objects run through its `linerase`, where a
 * one-element list is the element itself, attributes sit under `$`, and text that looks numeric has
 * become a number (a preset token "7" arrives as 7). Everything is read as `unknown` and checked here.
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

/** Text content whether linerase made it a string, a number or a boolean; objects with `_` (text + attributes) too. */
export function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const r = asRecord(v);
  if (r && '_' in r) return asText(r['_']);
  if (Array.isArray(v) && v.length === 1) return asText(v[0]);
  return undefined;
}

/** The `token` attribute of an element. */
export function tokenOf(v: unknown): string | undefined {
  return asText(asRecord(asRecord(v)?.['$'])?.['token']);
}

/** Escapes text that the `onvif` package pastes into its SOAP bodies unescaped (tokens, names). */
export function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
