/** One recording file as the archive index knows it. */
export interface RecordSegment {
  /** Absolute path of the file. */
  path: string;
  /** Path relative to its archive folder, `/`-separated (RecordInfo FilePath). */
  relativePath: string;
  /** The archive folder it was found in. */
  folder: string;
  /** Recording time span, Unix ms. */
  startMs: number;
  endMs: number;
  size: number;
  mtimeMs: number;
  /** Container start_time in seconds (first timestamp of the file). */
  startTimeSec: number;
  videoCodec?: string;
  audioCodec?: string;
}

/** Sort order of every list of segments the archive hands out. */
export function compareSegments(a: RecordSegment, b: RecordSegment): number {
  return a.startMs - b.startMs || a.endMs - b.endMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
