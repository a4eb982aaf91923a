/**
 * One ffmpeg run over one recording file, from an offset: `-ss` before `-i` (fast seek to the
 * keyframe at or before the offset), `-copyts` so every timestamp stays the file's own, MPEG-TS on
 * stdout, demuxed by the media side's TsDemuxer and access-unit stages. H.264/H.265 are copied;
 * any other video codec is transcoded to H.264 (libx264 ultrafast). AAC and G.711 audio are kept,
 * other audio is transcoded to AAC. Output is back-pressured: pause() stops reading ffmpeg's stdout.
 */
import { ChildProcessByStdio, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { AccessUnit, AudioCodec, VideoCodec } from '../media/access-unit';
import { AudioAccessUnitStage } from '../media/audio-access-unit-stage';
import { H26xAccessUnitStage } from '../media/h26x-access-unit-stage';
import { ElementaryPacket, TsDemuxer } from '../media/ts-demuxer';
import { RecordFileError } from './record-file-probe';
import { RecordSegment } from './record-segment';

export interface RecordingFileReaderEvents {
  unit: [au: AccessUnit];
  /** ffmpeg finished (error set when it failed before giving any unit). */
  end: [error: RecordFileError | undefined];
}

export function videoCodecOfFile(ffprobeName: string | undefined): VideoCodec | undefined {
  if (ffprobeName === 'h264') return 'h264';
  if (ffprobeName === 'hevc' || ffprobeName === 'h265') return 'h265';
  return undefined;
}

export function audioCodecOfFile(ffprobeName: string | undefined): AudioCodec | undefined {
  if (ffprobeName === 'aac') return 'aac';
  if (ffprobeName === 'pcm_alaw') return 'pcma';
  if (ffprobeName === 'pcm_mulaw') return 'pcmu';
  return undefined;
}

/** The audio codec playback delivers for a file: its own when PS carries it, else AAC (transcoded). */
export function playbackAudioCodec(ffprobeName: string | undefined): AudioCodec | undefined {
  if (!ffprobeName) return undefined;
  return audioCodecOfFile(ffprobeName) ?? 'aac';
}

/** ffmpeg arguments reading `segment` from `offsetSec` into the file. */
export function readerArguments(segment: RecordSegment, offsetSec: number): string[] {
  const args = ['-hide_banner', '-nostats', '-nostdin', '-loglevel', 'error'];
  if (offsetSec > 0) args.push('-ss', offsetSec.toFixed(3));
  args.push('-i', segment.path, '-map', '0:v:0');
  if (videoCodecOfFile(segment.videoCodec)) args.push('-c:v', 'copy');
  else args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25');
  if (audioCodecOfFile(segment.audioCodec)) args.push('-map', '0:a:0', '-c:a', 'copy');
  else if (segment.audioCodec) args.push('-map', '0:a:0', '-c:a', 'aac', '-b:a', '64k'); // MP3, ADPCM, ...: AAC for the PS muxer
  args.push('-sn', '-dn', '-copyts', '-muxdelay', '0', '-muxpreload', '0', '-f', 'mpegts', 'pipe:1');
  return args;
}

export class RecordingFileReader extends EventEmitter<RecordingFileReaderEvents> {
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private readonly demuxer: TsDemuxer;
  private video: H26xAccessUnitStage | undefined;
  private audio: AudioAccessUnitStage | undefined;
  private readonly audioCodec: AudioCodec | undefined;
  private stderr = '';
  private units = 0;
  private done = false;
  private stopped = false;

  constructor(private readonly ffmpegPath: string, readonly segment: RecordSegment, readonly offsetSec: number) {
    super();
    this.audioCodec = playbackAudioCodec(segment.audioCodec);
    this.demuxer = new TsDemuxer((p) => this.onPes(p));
  }

  start(): void {
    const child = spawn(this.ffmpegPath, readerArguments(this.segment, this.offsetSec), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) => { if (!this.stopped) this.demuxer.push(chunk); });
    child.stderr.on('data', (chunk: Buffer) => { if (this.stderr.length < 4000) this.stderr += chunk.toString(); });
    child.on('error', (err) => this.finish(new RecordFileError('RECORD_READ_FAILED', `ffmpeg could not start: ${err.message}`, { file: this.segment.path })));
    child.on('close', (code) => {
      if (!this.stopped) { this.demuxer.flush(); }
      const failed = code !== 0 && !this.stopped && this.units === 0;
      this.finish(failed ? new RecordFileError('RECORD_READ_FAILED', `ffmpeg failed on ${this.segment.path}: ${this.stderr.trim().split('\n').slice(-1)[0] ?? `exit ${code}`}`, { file: this.segment.path }) : undefined);
    });
  }

  /** Stops reading ffmpeg's output (ffmpeg blocks on the pipe). */
  pause(): void {
    this.child?.stdout.pause();
  }

  resume(): void {
    this.child?.stdout.resume();
  }

  /** Kills ffmpeg; 'end' follows without error. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
    if (!this.child) this.finish(undefined);
  }

  private finish(error: RecordFileError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.emit('end', this.stopped ? undefined : error);
  }

  private onPes(p: ElementaryPacket): void {
    if (this.stopped) return;
    if (p.streamType === 0x1b || p.streamType === 0x24) {
      const codec: VideoCodec = p.streamType === 0x24 ? 'h265' : 'h264';
      if (!this.video || this.video.codec !== codec) this.video = new H26xAccessUnitStage(codec);
      const au = this.video.process(p.data, p.pts, p.dts);
      if (au) { this.units++; this.emit('unit', au); }
      return;
    }
    const codec: AudioCodec | undefined = p.streamType === 0x0f ? 'aac' : this.audioCodec;
    if (!codec) return;
    if (!this.audio || this.audio.codec !== codec) this.audio = new AudioAccessUnitStage(codec);
    for (const au of this.audio.process(p.data, p.pts)) { this.units++; this.emit('unit', au); }
  }
}
