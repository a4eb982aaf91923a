/**
 * Real, independent RTSP clients for the simulated-camera tests: Debian's ffmpeg/ffprobe 5.1 and the
 * npm-shipped ffprobe, each run as a child process with a hard time limit.
 */
import { ChildProcess, spawn } from 'node:child_process';

export const DEBIAN_FFPROBE = '/usr/bin/ffprobe';
export const DEBIAN_FFMPEG = '/usr/bin/ffmpeg';

function npmBinary(pkg: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(pkg) as { path: string }).path;
}
export const NPM_FFPROBE = npmBinary('@ffprobe-installer/ffprobe');
export const NPM_FFMPEG = npmBinary('@ffmpeg-installer/ffmpeg');

export interface FfRun {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

const running = new Set<ChildProcess>();

export function runFf(bin: string, args: string[], timeoutMs: number): Promise<FfRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr, elapsedMs: Date.now() - t0 });
    });
  });
}

/** Kills any client a failed test left behind. */
export function killAllClients(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

export interface ProbedStream {
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
}

export async function probe(bin: string, url: string, transport: 'tcp' | 'udp'): Promise<{ streams: ProbedStream[]; run: FfRun }> {
  const run = await runFf(bin, ['-v', 'error', '-rtsp_transport', transport, '-analyzeduration', '1000000',
    '-show_entries', 'stream=codec_name,width,height,sample_rate', '-of', 'json', url], 15_000);
  const streams: ProbedStream[] = [];
  if (run.code === 0) {
    const parsed = JSON.parse(run.stdout) as { streams?: Array<Record<string, unknown>> };
    for (const s of parsed.streams ?? []) {
      streams.push({
        codec: String(s.codec_name),
        width: typeof s.width === 'number' ? s.width : undefined,
        height: typeof s.height === 'number' ? s.height : undefined,
        sampleRate: typeof s.sample_rate === 'string' ? Number(s.sample_rate) : undefined,
      });
    }
  }
  return { streams, run };
}

/** Pulls `seconds` of stream time and returns how many video frames ffmpeg decoded. */
export async function countFrames(bin: string, url: string, transport: 'tcp' | 'udp', seconds: number, extra: string[] = []): Promise<{ frames: number; run: FfRun }> {
  const run = await runFf(bin, ['-v', 'error', '-nostats', '-rtsp_transport', transport, ...extra, '-i', url, '-map', '0:v', '-t', String(seconds), '-f', 'null', '-progress', 'pipe:1', '-'], (seconds + 12) * 1000);
  const all = [...run.stdout.matchAll(/^frame=(\d+)/gm)];
  return { frames: all.length ? Number(all[all.length - 1][1]) : 0, run };
}
