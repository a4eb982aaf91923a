/**
 * Recording files made by ffmpeg for the record tests. The picture is a flat grey whose level
 * encodes the recording's own second: luma = 16 + 6 × (second-of-day mod 36). A decoded frame thus
 * says which second of the recording it shows, so a wrong seek or a wrong gap skip fails.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { locateFfTool } from '../../lib/media/ffmpeg-path';
import { AccessUnit } from '../../lib/media/access-unit';

export const FFMPEG = locateFfTool('ffmpeg').path;
export const FFPROBE = locateFfTool('ffprobe').path;
export const FPS = 10;
export const TZ = 'Asia/Shanghai';

export function run(bin: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `gb-rec-${prefix}-`));
}

/** Second of day (in TZ, which has no DST) of a `HH:mm:ss` label. */
export function secondOfDay(hms: string): number {
  const [h, m, s] = hms.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

export function codeOfSecond(sod: number): number {
  return sod % 36;
}

/**
 * Writes a `seconds`-long H.264 (or MPEG-4 Part 2 with codec 'mpeg4') file whose content shows
 * recording second `startSod` onwards, one keyframe per second.
 */
export async function makeSegment(file: string, startSod: number, seconds: number, codec: 'h264' | 'mpeg4' = 'h264', audio?: 'aac' | 'pcm_alaw' | 'libmp3lame'): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const lum = `16+6*mod(floor(T)+${startSod % 36},36)`;
  const enc = codec === 'h264' ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0'] : ['-c:v', 'mpeg4', '-q:v', '5'];
  const audioIn = audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${audio === 'pcm_alaw' ? 8000 : 16000}`] : [];
  const audioOut = audio ? ['-c:a', audio, ...(audio === 'pcm_alaw' ? [] : ['-b:a', '32k'])] : [];
  await run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=black:s=64x48:r=${FPS},geq=lum='${lum}':cb=128:cr=128`, ...audioIn,
    '-t', String(seconds), ...enc, '-g', String(FPS), '-keyint_min', String(FPS), '-pix_fmt', 'yuv420p', ...audioOut, file]);
}

/**
 * Decodes a video byte stream (`mpeg` = MPEG-PS as received, `h264`/`hevc` = Annex B) with ffmpeg and
 * returns each frame's second code (mod 36) and ffmpeg's error output.
 */
export function decodeSecondCodes(input: Buffer, format: 'mpeg' | 'h264' | 'hevc'): Promise<{ codes: number[]; errors: string; exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', format, '-i', 'pipe:0', '-map', '0:v:0', '-vf', 'scale=2:2:flags=area', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let errors = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => { errors += d.toString(); });
    p.on('error', reject);
    p.on('close', (exitCode) => {
      // yuv420p 2x2: 4 luma bytes then 1 Cb, 1 Cr; no range conversion, so the level is as encoded.
      const raw = Buffer.concat(out);
      const codes: number[] = [];
      for (let o = 0; o + 6 <= raw.length; o += 6) codes.push(Math.round(((raw[o] + raw[o + 1] + raw[o + 2] + raw[o + 3]) / 4 - 16) / 6));
      resolve({ codes, errors, exitCode });
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(input);
  });
}

/** Decodes Annex B video access units and returns each frame's second code (mod 36). */
export async function decodeCodes(units: AccessUnit[]): Promise<number[]> {
  const video = units.filter((u) => u.codec === 'h264' || u.codec === 'h265');
  if (!video.length) return [];
  const r = await decodeSecondCodes(Buffer.concat(video.map((u) => u.data)), video[0].codec === 'h265' ? 'hevc' : 'h264');
  if (r.exitCode !== 0) throw new Error(`decode failed: ${r.errors}`);
  return r.codes;
}

/** Collapses consecutive equal values: [3,3,4,4,4] → [3,4]. */
export function runsOf(values: number[]): number[] {
  const out: number[] = [];
  for (const v of values) if (out[out.length - 1] !== v) out.push(v);
  return out;
}

/** Unix ms of a wall-clock label in Asia/Shanghai (UTC+8, no DST). */
export function shanghaiMs(date: string, hms: string): number {
  return Date.parse(`${date}T${hms}+08:00`);
}

/** Largest event-loop delay (ms) seen while `fn` runs, sampled every 5 ms. */
export async function maxLoopDelayDuring<T>(fn: () => Promise<T>): Promise<{ result: T; maxDelayMs: number }> {
  let max = 0;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    max = Math.max(max, now - last - 5);
    last = now;
  }, 5);
  try {
    const result = await fn();
    return { result, maxDelayMs: max };
  } finally {
    clearInterval(timer);
  }
}

/** `count` copies of one 1 s segment named 00:00:00, 00:00:02, ... on 2025-06-14. */
export async function buildManyFiles(root: string, count: number): Promise<void> {
  const proto = path.join(root, 'proto.mp4');
  await makeSegment(proto, 0, 1);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = i * 2;
    const hh = String(Math.floor(t / 3600)).padStart(2, '0');
    const mm = String(Math.floor((t % 3600) / 60)).padStart(2, '0');
    const ss = String(t % 60).padStart(2, '0');
    names.push(path.join(root, 'archive', '2025-06-14', `${hh}-${mm}-${ss}.mp4`));
  }
  await fsp.mkdir(path.join(root, 'archive', '2025-06-14'), { recursive: true });
  for (let i = 0; i < names.length; i += 100) await Promise.all(names.slice(i, i + 100).map((n) => fsp.copyFile(proto, n)));
}
