/**
 * One ffmpeg process that encodes a live test pattern (testsrc draws a frame counter, so the picture
 * carries its own time; a wall clock is drawn when a font is at hand) and sends each track as RTP to a
 * UDP socket of ours on 127.0.0.1. ffmpeg also writes the SDP (sprop-parameter-sets, sprop-vps/sps/pps,
 * AAC config) that DESCRIBE answers with. RTCP goes to the same socket as RTP (`rtcpport=`): RTCP
 * packet types 200–204 never collide with our dynamic RTP payload types (RFC 5761 §4).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GatewayError } from '../../errors';

export type SimulatedAudio = 'none' | 'pcma' | 'aac';

export interface PatternSpec {
  path: string;
  video: 'h264' | 'h265';
  audio: SimulatedAudio;
  width: number;
  height: number;
  fps: number;
  gop: number;
  bitrateKbps: number;
}

/** One m= section of ffmpeg's SDP. */
export interface EncodedTrack {
  kind: 'video' | 'audio';
  /** The m= line and its attributes, without c= (the server writes its own). */
  mediaLines: string[];
}

/** Fonts tried for the clock overlay; none is required. */
const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
  '/Library/Fonts/Arial.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

export function findClockFont(): string | undefined {
  return FONT_CANDIDATES.find((f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** Escapes a path for use inside a filtergraph option value (ffmpeg-filters §4.1 quoting). */
function filterPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/:/g, '\\:').replace(/'/g, "\\'");
}

export function buildEncoderArgs(spec: PatternSpec, rtpPorts: number[], sdpFile: string, clockFont: string | undefined): string[] {
  const g = spec.gop;
  let video = `testsrc=size=${spec.width}x${spec.height}:rate=${spec.fps}`;
  if (clockFont) {
    video += `,drawtext=fontfile=${filterPath(clockFont)}:text='${spec.path.replace(/[^A-Za-z0-9/_-]/g, '')} %{localtime\\:%T}'`
      + ':x=8:y=8:fontsize=' + Math.max(12, Math.round(spec.height / 14)) + ':fontcolor=white:box=1:boxcolor=black@0.6';
  }
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', video];
  if (spec.audio !== 'none') {
    const rate = spec.audio === 'pcma' ? 8000 : 16000;
    // A 1 kHz beep each second: audible sync against the frame counter.
    args.push('-re', '-f', 'lavfi', '-i', `sine=frequency=1000:beep_factor=4:sample_rate=${rate}`);
  }
  // connect=1: once our socket is gone (stop, or this Node process died) sends fail with ECONNREFUSED
  // and ffmpeg exits by itself, so an encoder never outlives its camera as an orphan.
  const rtpUrl = (port: number): string => `rtp://127.0.0.1:${port}?rtcpport=${port}&pkt_size=1400&connect=1`;
  args.push('-map', '0:v', '-pix_fmt', 'yuv420p', '-g', String(g), '-keyint_min', String(g), '-sc_threshold', '0',
    '-b:v', `${spec.bitrateKbps}k`, '-maxrate', `${spec.bitrateKbps}k`, '-bufsize', `${spec.bitrateKbps * 2}k`,
    // Global header: parameter sets go into the SDP; in-band copies before every keyframe let late clients decode.
    '-flags:v', '+global_header');
  if (spec.video === 'h264') {
    args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bsf:v', 'dump_extra');
  } else {
    args.push('-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency',
      '-x265-params', `repeat-headers=1:log-level=error:keyint=${g}:min-keyint=${g}:scenecut=0`);
  }
  args.push('-f', 'rtp', '-payload_type', '96', rtpUrl(rtpPorts[0]));
  if (spec.audio === 'pcma') {
    args.push('-map', '1:a', '-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1', '-f', 'rtp', '-payload_type', '8', rtpUrl(rtpPorts[1]));
  } else if (spec.audio === 'aac') {
    args.push('-map', '1:a', '-c:a', 'aac', '-b:a', '32k', '-ar', '16000', '-ac', '1', '-f', 'rtp', '-payload_type', '97', rtpUrl(rtpPorts[1]));
  }
  args.push('-sdp_file', sdpFile);
  return args;
}

/** The clock rate of a track's rtpmap (RFC 4566 §6); 8000 for static PCMA. */
export function trackClockRate(track: EncodedTrack): number {
  for (const line of track.mediaLines) {
    const m = /^a=rtpmap:\d+ [^/]+\/(\d+)/.exec(line);
    if (m) return Number(m[1]);
  }
  return track.kind === 'video' ? 90000 : 8000;
}

/** Splits ffmpeg's SDP into its media sections; PCMA gets its (static, RFC 3551) rtpmap spelled out. */
export function parseEncoderSdp(text: string): EncodedTrack[] {
  const tracks: EncodedTrack[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('m=')) {
      const kind = line.startsWith('m=video') ? 'video' : 'audio';
      const parts = line.split(' ');
      parts[1] = '0';
      tracks.push({ kind, mediaLines: [parts.join(' ')] });
      if (kind === 'audio' && parts[3] === '8') tracks[tracks.length - 1].mediaLines.push('a=rtpmap:8 PCMA/8000');
    } else if (tracks.length && !line.startsWith('c=') && !line.startsWith('a=rtpmap:8 ')) {
      tracks[tracks.length - 1].mediaLines.push(line);
    }
  }
  return tracks;
}

export interface PatternEncoderEvents {
  packet: [trackIndex: number, packet: Buffer, isRtcp: boolean];
  exit: [detail: string];
}

export class PatternEncoder extends EventEmitter<PatternEncoderEvents> {
  private sockets: dgram.Socket[] = [];
  private child?: ChildProcess;
  private stderrTail = '';
  private exited = false;
  private exitPromise?: Promise<void>;
  private readonly tmpDir: string;

  constructor(private readonly spec: PatternSpec, private readonly ffmpegPath: string, private readonly clockFont: string | undefined) {
    super();
    this.tmpDir = path.join(os.tmpdir(), `sim-camera-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  }

  /** Starts ffmpeg and resolves with the tracks once the SDP is written (ffmpeg has opened every output). */
  async start(timeoutMs = 10_000): Promise<EncodedTrack[]> {
    const trackCount = this.spec.audio === 'none' ? 1 : 2;
    for (let i = 0; i < trackCount; i++) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (msg) => {
        const isRtcp = msg.length >= 2 && msg[1] >= 200 && msg[1] <= 204;
        this.emit('packet', i, msg, isRtcp);
      });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
      this.sockets.push(socket);
    }
    fs.mkdirSync(this.tmpDir, { recursive: true });
    const sdpFile = path.join(this.tmpDir, 'stream.sdp');
    const args = buildEncoderArgs(this.spec, this.sockets.map((s) => s.address().port), sdpFile, this.clockFont);
    const child = spawn(this.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000);
    });
    this.exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.closeSockets();
        this.emit('exit', `ffmpeg exited (${signal ?? code})${this.stderrTail ? ': ' + this.stderrTail.trim().split('\n').slice(-3).join(' | ') : ''}`);
        resolve();
      });
      child.once('error', (err) => {
        this.stderrTail += String(err.message);
        if (child.exitCode === null && !this.exited) {
          // spawn failure: no 'exit' will follow
          this.exited = true;
          this.closeSockets();
          this.emit('exit', `ffmpeg could not start: ${err.message}`);
          resolve();
        }
      });
    });
    const deadline = Date.now() + timeoutMs;
    let previous: string | undefined;
    for (;;) {
      if (this.exited) throw new GatewayError('SIM_CAMERA_ENCODER', `encoder for ${this.spec.path} failed: ${this.stderrTail.trim().slice(-500)}`, { camera: this.spec.path });
      // ffmpeg writes the file in one go, but a poll can land mid-write: take it once it has every m= line and is unchanged.
      const text = readSdp(sdpFile, trackCount);
      if (text !== undefined && text === previous) return parseEncoderSdp(text);
      previous = text;
      if (Date.now() > deadline) {
        await this.stop();
        throw new GatewayError('SIM_CAMERA_ENCODER', `encoder for ${this.spec.path} wrote no SDP within ${timeoutMs} ms`, { camera: this.spec.path });
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  /** Ends ffmpeg (SIGTERM, SIGKILL after 2 s) and releases its sockets and temp files. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await this.exitPromise;
      clearTimeout(timer);
    }
    this.closeSockets();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }

  get pid(): number | undefined {
    return this.exited ? undefined : this.child?.pid;
  }

  private closeSockets(): void {
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.sockets = [];
  }
}

function readSdp(file: string, trackCount: number): string | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\nm=').length - 1 >= trackCount ? text : undefined;
  } catch {
    return undefined;
  }
}
