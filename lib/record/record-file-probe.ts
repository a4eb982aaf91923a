/**
 * ffprobe of one recording file: duration, container start time and codecs, which is all the
 * archive index and the playback reader need. A file ffprobe cannot read gives a RecordFileError.
 */
import { execFile } from 'node:child_process';
import { GatewayError } from '../errors';

export interface RecordFileInfo {
  durationMs: number;
  /** Container start_time in seconds: the first timestamp, which -copyts keeps on playback. */
  startTimeSec: number;
  /** ffprobe codec name of the first video stream ("h264", "hevc", "mpeg4", ...). */
  videoCodec?: string;
  /** ffprobe codec name of the first audio stream ("aac", "pcm_alaw", ...). */
  audioCodec?: string;
}

export class RecordFileError extends GatewayError {}

interface ProbeJson {
  format?: { duration?: string; start_time?: string };
  streams?: { codec_type?: string; codec_name?: string; duration?: string }[];
}

function asProbeJson(value: unknown): ProbeJson {
  return typeof value === 'object' && value !== null ? (value as ProbeJson) : {};
}

export function probeRecordFile(ffprobePath: string, file: string, timeoutMs = 15_000): Promise<RecordFileInfo> {
  const args = ['-v', 'error', '-show_entries', 'format=duration,start_time:stream=codec_type,codec_name,duration', '-of', 'json', file];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new RecordFileError('RECORD_FILE_UNREADABLE', `ffprobe cannot read ${file}: ${String(stderr || err.message).trim().split('\n').slice(-1)[0]}`, { file }));
        return;
      }
      let json: ProbeJson;
      try { json = asProbeJson(JSON.parse(stdout)); } catch {
        reject(new RecordFileError('RECORD_FILE_UNREADABLE', `ffprobe gave no JSON for ${file}`, { file }));
        return;
      }
      const streams = json.streams ?? [];
      const video = streams.find((s) => s.codec_type === 'video');
      const audio = streams.find((s) => s.codec_type === 'audio');
      const duration = Number(json.format?.duration ?? video?.duration);
      if (!video || !Number.isFinite(duration) || duration <= 0) {
        reject(new RecordFileError('RECORD_FILE_UNREADABLE', `${file} has ${video ? 'no duration' : 'no video stream'}`, { file }));
        return;
      }
      const start = Number(json.format?.start_time);
      resolve({
        durationMs: Math.round(duration * 1000),
        startTimeSec: Number.isFinite(start) ? start : 0,
        ...(video.codec_name ? { videoCodec: video.codec_name } : {}),
        ...(audio?.codec_name ? { audioCodec: audio.codec_name } : {}),
      });
    });
  });
}
