/**
 * MANSRTSP bodies of in-dialog INFO requests (GB28181-2016 Annex B; notes §8.4): playback
 * control as RTSP-like text, `PLAY`/`PAUSE`/`TEARDOWN RTSP/1.0`, CSeq, Range npt=, Scale, PauseTime.
 */
export interface MansRtspCommand {
  method: 'PLAY' | 'PAUSE' | 'TEARDOWN';
  cseq?: number;
  /** Range npt=<from>-[<to>]: 'now' or seconds from the start of the playback. */
  range?: { from: 'now' | number; to?: number };
  scale?: number;
  pauseTime?: 'now' | number;
}

export class MansRtspError extends Error {}

export const MAX_MANSRTSP_BYTES = 2048;

export function parseMansRtsp(text: string): MansRtspCommand {
  if (text.length > MAX_MANSRTSP_BYTES) throw new MansRtspError(`MANSRTSP body longer than ${MAX_MANSRTSP_BYTES} bytes`);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const start = /^(PLAY|PAUSE|TEARDOWN)\s+(?:\S+\s+)?RTSP\/1\.0$/i.exec(lines[0] ?? '');
  if (!start) throw new MansRtspError(`not a MANSRTSP request line: "${(lines[0] ?? '').slice(0, 40)}"`);
  const cmd: MansRtspCommand = { method: start[1].toUpperCase() as MansRtspCommand['method'] };
  for (const line of lines.slice(1)) {
    const h = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
    if (!h) throw new MansRtspError(`malformed header line "${line.slice(0, 40)}"`);
    const name = h[1].toLowerCase();
    const value = h[2].trim();
    if (name === 'cseq') {
      if (!/^\d{1,10}$/.test(value)) throw new MansRtspError(`CSeq "${value.slice(0, 20)}"`);
      cmd.cseq = Number(value);
    } else if (name === 'range') {
      const r = /^npt\s*=\s*(now|\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)?$/i.exec(value);
      if (!r) throw new MansRtspError(`Range "${value.slice(0, 40)}"`);
      cmd.range = { from: r[1].toLowerCase() === 'now' ? 'now' : Number(r[1]) };
      if (r[2] !== undefined) cmd.range.to = Number(r[2]);
    } else if (name === 'scale') {
      const s = Number(value);
      if (!/^-?\d+(\.\d+)?$/.test(value) || s === 0 || Math.abs(s) > 256) throw new MansRtspError(`Scale "${value.slice(0, 20)}"`);
      cmd.scale = s;
    } else if (name === 'pausetime') {
      if (value.toLowerCase() === 'now') cmd.pauseTime = 'now';
      else if (/^\d+(\.\d+)?$/.test(value)) cmd.pauseTime = Number(value);
      else throw new MansRtspError(`PauseTime "${value.slice(0, 20)}"`);
    }
  }
  return cmd;
}
