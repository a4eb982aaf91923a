/**
 * Asks ffprobe (through fluent-ffmpeg) what a camera sends: codec, resolution, frame rate, audio,
 * in the shape ChannelDescriptor.video / hasAudio use. The URL with credentials goes to ffprobe's
 * argv only; errors carry the masked URL.
 */
import type ffmpeg from 'fluent-ffmpeg';
import { ChannelDescriptor } from '../session/stream-contract';
import { maskRtspUrl } from '../rtsp-url';
import { FfBinary, rtspTimeoutOption } from './ffmpeg-path';
import { fluentCommand } from './fluent-command';
import { IngestError, classifyFfmpegFailure } from './ingest-error';
import { RtspTransportChoice } from './rtsp-ingest';

export interface ProbeResult {
  video?: NonNullable<ChannelDescriptor['video']>;
  hasAudio: boolean;
  audioCodec?: string;
}

export interface FfProbeOptions {
  ffprobe: FfBinary;
  rtspTransport?: RtspTransportChoice;
  timeoutMs?: number;
}

function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [n, d] = rate.split('/').map(Number);
  if (!n || !d) return undefined;
  return Math.round((n / d) * 100) / 100;
}

function videoCodecName(name: string | undefined): string {
  if (name === 'h264') return 'H264';
  if (name === 'hevc') return 'H265';
  return (name ?? 'unknown').toUpperCase();
}

export class FfProbe {
  constructor(private readonly options: FfProbeOptions) {}

  probe(url: string, displayUrl = maskRtspUrl(url)): Promise<ProbeResult> {
    const o = this.options;
    const timeoutMs = o.timeoutMs ?? 10000;
    const opts = [rtspTimeoutOption(o.ffprobe) === '-timeout' ? '-timeout' : '-stimeout', String(timeoutMs * 1000)];
    if (o.rtspTransport && o.rtspTransport !== 'auto') opts.push('-rtsp_transport', o.rtspTransport);
    return new Promise<ProbeResult>((resolve, reject) => {
      const cmd = fluentCommand(url, { ffprobePath: o.ffprobe.path });
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new IngestError('RTSP_TIMEOUT', `ffprobe got no answer in ${timeoutMs} ms`, { camera: displayUrl }));
      }, timeoutMs + 2000);
      cmd.ffprobe(opts, (err: Error | null, data: ffmpeg.FfprobeData) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        if (err) { reject(classifyFfmpegFailure(err.message.split('\n'), { camera: displayUrl })); return; }
        const v = data.streams.find((s) => s.codec_type === 'video');
        const a = data.streams.find((s) => s.codec_type === 'audio');
        const fps = parseRate(v?.avg_frame_rate) ?? parseRate(v?.r_frame_rate);
        resolve({
          ...(v ? { video: { codec: videoCodecName(v.codec_name), ...(v.width ? { width: v.width, height: v.height } : {}), ...(fps ? { fps } : {}) } } : {}),
          hasAudio: !!a,
          ...(a?.codec_name ? { audioCodec: a.codec_name } : {}),
        });
      });
    });
  }
}
