/**
 * rtsp-source recording properties (strings from the editor) → the settings of a ChannelRecording,
 * with one problem line per bad field (the runtime checks again: flows can be written by hand).
 * Folders are one per line; a relative folder is taken from the Node-RED user directory.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { RecordMode } from '../record/recorder';
import { NameMarks } from '../record/record-archive';
import { DEFAULT_RECORD_NAME_PATTERN, RecordNamePattern } from '../record/record-name-pattern';

export interface SourceRecordingSettings {
  /** Absolute folders; empty = no archive (RecordInfo answers nothing for this channel). */
  dirs: string[];
  pattern: string;
  nameMarks: NameMarks;
  mode: RecordMode;
  segmentSeconds: number;
  maxAgeDays?: number;
  maxSizeMb?: number;
  problems: string[];
}

const MODES: RecordMode[] = ['off', 'continuous', 'on-command'];

function text(props: Record<string, unknown>, key: string): string {
  const v = props[key];
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  return '';
}

function positive(props: Record<string, unknown>, key: string, label: string, min: number, max: number, problems: string[]): number | undefined {
  const raw = text(props, key);
  if (raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    problems.push(`${label} must be a number from ${min} to ${max} (got "${raw}")`);
    return undefined;
  }
  return n;
}

/** `~/x` and relative folders (from `baseDir`, the user directory) made absolute. */
export function resolveRecordDir(dir: string, baseDir: string): string {
  if (dir === '~' || dir.startsWith('~/')) return path.join(os.homedir(), dir.slice(1));
  return path.resolve(baseDir, dir);
}

export function readSourceRecordingSettings(props: Record<string, unknown>, baseDir: string): SourceRecordingSettings {
  const problems: string[] = [];
  const dirs = [...new Set(text(props, 'recordDirs').split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((d) => resolveRecordDir(d, baseDir)))];
  const pattern = text(props, 'recordPattern') || DEFAULT_RECORD_NAME_PATTERN;
  try {
    new RecordNamePattern(pattern);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const marks = text(props, 'recordNameMarks') || 'start';
  if (marks !== 'start' && marks !== 'end') problems.push(`file names mark the start or the end (got "${marks}")`);
  const mode = (text(props, 'recordMode') || 'off') as RecordMode;
  if (!MODES.includes(mode)) problems.push(`recorder mode must be off, continuous or on-command (got "${mode}")`);
  else if (mode !== 'off' && !dirs.length) problems.push('the recorder needs a recordings folder');
  else if (mode !== 'off' && marks === 'end') problems.push('the recorder names files by their start time: set File names to "the name is the start time"');
  // Minutes; fractions allowed (0.05 min = 3 s) so a test or a demo sees segments quickly.
  const segmentMin = positive(props, 'recordSegmentMin', 'segment length', 0.05, 1440, problems) ?? 10;
  const maxAgeDays = positive(props, 'recordMaxAgeDays', 'retention days', 0.001, 36500, problems);
  const maxSizeMb = positive(props, 'recordMaxSizeMb', 'retention size', 1, 1e9, problems);
  return {
    dirs,
    pattern,
    nameMarks: marks === 'end' ? 'end' : 'start',
    mode: MODES.includes(mode) ? mode : 'off',
    segmentSeconds: Math.round(segmentMin * 60 * 1000) / 1000,
    ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
    ...(maxSizeMb !== undefined ? { maxSizeMb } : {}),
    problems,
  };
}

/**
 * The platform time zone of a source: the wvp-register of the first gb28181-device its output is
 * wired to (file names are written in the platform's zone, notes §8). `defs` are the flow's node
 * definitions (RED.nodes.eachNode); the default is the platform default, Asia/Shanghai.
 */
export function wiredPlatformTimeZone(wires: unknown, defs: Record<string, unknown>[], fallback: string): string {
  const targets = new Set(Array.isArray(wires) ? wires.flatMap((port) => (Array.isArray(port) ? port.filter((t): t is string => typeof t === 'string') : [])) : []);
  const byId = new Map(defs.filter((d) => typeof d.id === 'string').map((d) => [d.id as string, d]));
  for (const id of targets) {
    const dev = byId.get(id);
    if (dev?.type !== 'gb28181-device' || typeof dev.platform !== 'string') continue;
    const reg = byId.get(dev.platform);
    const zone = reg && typeof reg.timeZone === 'string' ? reg.timeZone.trim() : '';
    if (zone) return zone;
  }
  return fallback;
}
