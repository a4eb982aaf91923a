/**
 * A recording file's start (or end) time read from its path, and written into one by the recorder.
 *
 * Pattern syntax: text in braces holds the tokens YYYY MM DD HH mm ss (fixed width, zero-padded)
 * and literal separators; text outside braces is literal, `*` matches any run of characters within
 * one path component. The pattern is matched against the end of the file's path relative to the
 * archive folder, without its extension, so `{YYYY-MM-DD}/{HH-mm-ss}` accepts
 * `2025-06-12/10-30-00.avi` and `cam1/2025-06-12/10-30-00.mp4`.
 */
import { GatewayError } from '../errors';
import { WallClock, isValidWallClock } from './zoned-time';

export const DEFAULT_RECORD_NAME_PATTERN = '{YYYY-MM-DD}/{HH-mm-ss}';

type Token = 'YYYY' | 'MM' | 'DD' | 'HH' | 'mm' | 'ss';
const TOKENS: Token[] = ['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss'];
const FIELD: Record<Token, keyof WallClock> = { YYYY: 'year', MM: 'month', DD: 'day', HH: 'hour', mm: 'minute', ss: 'second' };

type Piece = { kind: 'literal'; text: string } | { kind: 'wildcard' } | { kind: 'token'; token: Token };

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function tokenize(pattern: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '{') {
      const close = pattern.indexOf('}', i);
      if (close < 0) throw new GatewayError('RECORD_PATTERN_INVALID', `unclosed '{' in record name pattern "${pattern}"`, { pattern });
      let inner = pattern.slice(i + 1, close);
      while (inner.length) {
        const t = TOKENS.find((k) => inner.startsWith(k));
        if (t) { pieces.push({ kind: 'token', token: t }); inner = inner.slice(t.length); }
        else { pieces.push({ kind: 'literal', text: inner[0] }); inner = inner.slice(1); }
      }
      i = close + 1;
    } else if (c === '*') {
      pieces.push({ kind: 'wildcard' });
      i++;
    } else {
      pieces.push({ kind: 'literal', text: c });
      i++;
    }
  }
  return pieces;
}

export class RecordNamePattern {
  private readonly pieces: Piece[];
  private readonly regex: RegExp;
  private readonly groups: Token[] = [];

  constructor(readonly pattern: string = DEFAULT_RECORD_NAME_PATTERN) {
    this.pieces = tokenize(pattern);
    let src = '';
    for (const p of this.pieces) {
      if (p.kind === 'literal') src += escapeRegExp(p.text);
      else if (p.kind === 'wildcard') src += '[^/]*';
      else { src += p.token === 'YYYY' ? '(\\d{4})' : '(\\d{2})'; this.groups.push(p.token); }
    }
    const missing = (['YYYY', 'MM', 'DD', 'HH', 'mm'] as Token[]).filter((t) => !this.groups.includes(t));
    if (missing.length) throw new GatewayError('RECORD_PATTERN_INVALID', `record name pattern "${pattern}" lacks ${missing.join(', ')}`, { pattern });
    this.regex = new RegExp(`(?:^|/)${src}$`);
  }

  /** Wall-clock fields from a relative path (any extension; `\` separators accepted), or undefined. */
  parse(relativePath: string): WallClock | undefined {
    const noExt = relativePath.replace(/\\/g, '/').replace(/\.[^./]*$/, '');
    const m = this.regex.exec(noExt);
    if (!m) return undefined;
    const w: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    this.groups.forEach((t, idx) => { w[FIELD[t]] = Number(m[idx + 1]); });
    return isValidWallClock(w) ? w : undefined;
  }

  /** The relative path (without extension) for a wall-clock time; wildcards become empty. */
  format(w: WallClock): string {
    return this.pieces.map((p) => {
      if (p.kind === 'literal') return p.text;
      if (p.kind === 'wildcard') return '';
      return String(w[FIELD[p.token]]).padStart(p.token === 'YYYY' ? 4 : 2, '0');
    }).join('');
  }
}
