/**
 * fluent-ffmpeg keeps the binary path in one module-wide cache (`setFfmpegPath` writes it, the
 * spawn reads it later), so two commands with different binaries in one process could swap them:
 * and `-timeout` means "listen" to the 2018 ffmpeg. These helpers pin the path per command.
 */
import ffmpeg from 'fluent-ffmpeg';

type PathLookup = (callback: (err: Error | null, path: string) => void) => void;

interface PathLookups {
  _getFfmpegPath: PathLookup;
  _getFfprobePath: PathLookup;
}

/** A command that always runs `ffmpegPath` (and `ffprobePath` for ffprobe calls). */
export function fluentCommand(source: string, binaries: { ffmpegPath?: string; ffprobePath?: string }): ffmpeg.FfmpegCommand {
  const cmd = ffmpeg({ source, stdoutLines: 0 });
  const lookups = cmd as unknown as PathLookups;
  const { ffmpegPath, ffprobePath } = binaries;
  if (ffmpegPath) {
    cmd.setFfmpegPath(ffmpegPath);
    lookups._getFfmpegPath = (callback) => callback(null, ffmpegPath);
  }
  if (ffprobePath) {
    cmd.setFfprobePath(ffprobePath);
    lookups._getFfprobePath = (callback) => callback(null, ffprobePath);
  }
  return cmd;
}
