/**
 * Glue between a Playback/Download INVITE (StreamRequest with t= in Unix seconds) and MANSRTSP
 * INFO (GB28181-2016 Annex B; notes §8.4) on one side and a PlaybackSource on the other.
 */
import { GatewayError } from '../errors';
import { Logger } from '../logger';
import { StreamRequest } from '../session/stream-contract';
import { PlaybackSource } from './playback-source';
import { SegmentQueryable } from './record-info-items';

/** Structurally the MansRtspCommand lib/device parses (PLAY/PAUSE/TEARDOWN, Range, Scale). */
export interface PlaybackControl {
  method: 'PLAY' | 'PAUSE' | 'TEARDOWN';
  range?: { from: 'now' | number; to?: number };
  scale?: number;
}

export interface OpenPlaybackOptions {
  ffmpegPath: string;
  logger?: Logger;
  readAheadMs?: number;
}

/**
 * A PlaybackSource for a Playback or Download request, or a GatewayError with `sipStatus` when the
 * request has no range (400) or the range holds no recording (404).
 */
export function openPlaybackSource(req: StreamRequest, archive: SegmentQueryable, o: OpenPlaybackOptions): PlaybackSource {
  const context = { callId: req.callId, channelId: req.channelId, deviceId: req.deviceId };
  if (req.sessionType === 'Play') throw new GatewayError('RECORD_NOT_PLAYBACK', 'a live request has no recording range', { ...context, sipStatus: 488 });
  const start = req.startTime;
  const end = req.endTime;
  if (start === undefined || end === undefined || !(end > start)) {
    throw new GatewayError('RECORD_BAD_RANGE', `playback range t=${start ?? '?'} ${end ?? '?'} is not a range`, { ...context, sipStatus: 400 });
  }
  const startMs = start * 1000;
  const endMs = end * 1000;
  const segments = archive.query(startMs, endMs);
  if (!segments.length) throw new GatewayError('RECORD_NONE_IN_RANGE', `no recording between t=${start} and t=${end}`, { ...context, sipStatus: 404 });
  return new PlaybackSource({
    key: `${req.sessionType.toLowerCase()}:${req.callId}`,
    segments, startMs, endMs,
    ffmpegPath: o.ffmpegPath,
    mode: req.sessionType === 'Download' ? 'download' : 'playback',
    downloadSpeed: req.downloadSpeed,
    readAheadMs: o.readAheadMs,
    logger: o.logger,
    context,
  });
}

/** Applies one MANSRTSP command: PAUSE holds; PLAY resumes, seeks (npt=N-) and/or sets Scale. */
export function applyPlaybackControl(source: PlaybackSource, cmd: PlaybackControl): void {
  if (cmd.method === 'TEARDOWN') { source.stop(); return; }
  if (cmd.method === 'PAUSE') { source.pause(); return; }
  if (cmd.scale !== undefined) source.setScale(Math.abs(cmd.scale));
  if (cmd.range && typeof cmd.range.from === 'number') source.seek(cmd.range.from);
  source.resume();
}
