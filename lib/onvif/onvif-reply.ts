/**
 * Narrowing for the `onvif` package's replies: xml2js objects run through its `linerase`, where a
 * one-element list is the element itself, attributes sit under `$`, and text that looks numeric has
 * become a number (a preset token "7" arrives as 7). Everything is read as `unknown` and checked here.
 */
export type Json = Record<string, unknown>;

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

/** Walks raw (un-linerased) xml2js data: every step is a list whose first element is taken. */
export function rawPath(v: unknown, ...keys: string[]): unknown {
  let cur: unknown = v;
  for (const key of keys) {
    const first = Array.isArray(cur) ? cur[0] : cur;
    cur = asRecord(first)?.[key];
  }
  return Array.isArray(cur) ? cur[0] : cur;
}

/** Escapes text that the `onvif` package pastes into its SOAP bodies unescaped (tokens, names). */
export function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
