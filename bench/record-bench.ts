/**
 * Recording benchmarks (issue 7):
 *  - index time for 5,000 files: cold (first start, copies of one segment so identical files are
 *    probed once), from the cache (restart), and the true per-file ffprobe cost on distinct files
 *    (what a cold index of 5,000 distinct files costs at probe concurrency 2, extrapolated);
 *  - playback start: PlaybackSource start() → first access unit, seeking into the middle of a file;
 *  - playback start as the platform sees it: Playback INVITE sent → first RTP packet received, through
 *    the headless runner's Gateway and the platform emulator on 127.0.0.1 (UDP and TCP), median.
 * Run: node build-c1/bench/record-bench.js [fileCount]
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AccessUnit } from '../lib/media/access-unit';
import { PlaybackSource } from '../lib/record/playback-source';
import { RecordArchive } from '../lib/record/record-archive';
import { FFMPEG, FFPROBE, TZ, buildManyFiles, makeSegment, maxLoopDelayDuring, secondOfDay, shanghaiMs, tempDir } from '../test/record/record-fixtures';
import { CH1, DEVICE_ID, shanghaiSec, sourceConfig, startPair } from '../test/e2e/recordings-harness';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function indexBench(count: number): Promise<void> {
  const root = await tempDir('bench-index');
  try {
    await buildManyFiles(root, count);
    const folder = path.join(root, 'archive');
    for (const phase of ['cold', 'from cache'] as const) {
      const a = new RecordArchive({ channelId: '34020000001320000001', folders: [folder], timeZone: TZ, ffprobePath: FFPROBE });
      const t0 = Date.now();
      a.start();
      const startReturnMs = Date.now() - t0;
      const { result, maxDelayMs } = await maxLoopDelayDuring(() => a.whenIndexed());
      console.log(`index ${count} files ${phase}: ${Date.now() - t0} ms (start() returned in ${startReturnMs} ms; ${result.probed} ffprobe runs, ${result.deduplicated} deduplicated, ${result.fromCache} from cache; max event-loop delay ${maxDelayMs} ms)`);
      await a.stop();
    }
    // Distinct files: every one needs ffprobe.
    const sample = 200;
    const some = (await fsp.readdir(path.join(folder, '2025-06-14'))).slice(0, sample);
    const bb = new RecordArchive({ channelId: 'c', folders: [folder], timeZone: TZ, ffprobePath: FFPROBE, cacheFile: false, deduplicateIdentical: false, watch: false });
    let i = 0;
    const worker = async (): Promise<void> => { while (i < some.length) { const f = some[i++]; await bb.refresh(path.join(folder, '2025-06-14', f)); } };
    const t2 = Date.now();
    await Promise.all([worker(), worker()]);
    const perFile = (Date.now() - t2) / sample;
    console.log(`ffprobe per distinct file at concurrency 2: ${perFile.toFixed(1)} ms wall → a cold index of 5,000 distinct files ≈ ${(perFile * 5000 / 1000).toFixed(0)} s (in the background)`);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

async function playbackStartBench(runs: number): Promise<void> {
  const root = await tempDir('bench-play');
  try {
    const day = '2025-06-12';
    await makeSegment(path.join(root, `${day}/10-00-00.mp4`), secondOfDay('10:00:00'), 60);
    await makeSegment(path.join(root, `${day}/10-01-00.avi`), secondOfDay('10:01:00'), 60);
    const archive = new RecordArchive({ channelId: 'c', folders: [root], timeZone: TZ, ffprobePath: FFPROBE, watch: false, cacheFile: false });
    archive.start();
    await archive.whenIndexed();
    for (const [label, at] of [['mp4, 30 s in', '10:00:30.5'], ['avi, 45 s in', '10:01:45.5']] as const) {
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const startMs = shanghaiMs(day, at);
        const src = new PlaybackSource({ segments: archive.query(startMs, startMs + 20_000), startMs, endMs: startMs + 20_000, ffmpegPath: FFMPEG });
        const t0 = process.hrtime.bigint();
        const first = new Promise<AccessUnit>((resolve) => src.once('unit', (au) => resolve(au)));
        src.start();
        await first;
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        src.stop();
      }
      console.log(`playback start (${label}): median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms over ${runs} runs`);
    }
    await archive.stop();
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

/** Playback INVITE → first RTP at the platform, through Gateway + emulator (signalling, reader start, seek, PS/RTP). */
async function inviteToFirstRtpBench(runs: number): Promise<void> {
  const root = await tempDir('bench-invite');
  const day = '2025-06-12';
  await makeSegment(path.join(root, `${day}/10-00-00.mp4`), secondOfDay('10:00:00'), 60);
  await makeSegment(path.join(root, `${day}/10-01-00.avi`), secondOfDay('10:01:00'), 60);
  const { platform, gateway } = await startPair(() => [sourceConfig(CH1, 'rtsp://127.0.0.1:9/unused', [root])], { logLevel: 'error' });
  try {
    await gateway.recordings?.channel(CH1)?.archive.whenIndexed();
    for (const transport of ['udp', 'tcp-passive'] as const) {
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        // Alternate between a mid-file start in the MP4 and in the AVI; WVP's range runs to the day's end.
        const at = r % 2 ? '10:01:45' : '10:00:30';
        const t0 = Date.now();
        const session = await platform.invite(DEVICE_ID, CH1, { transport, sessionType: 'Playback', startTime: shanghaiSec(day, at), endTime: shanghaiSec(day, '23:59:59') });
        await session.waitForPackets(1, 10_000);
        times.push((session.firstPacketAt ?? Date.now()) - t0);
        await session.bye();
      }
      console.log(`playback INVITE → first RTP (${transport}, through Gateway + emulator): median ${median(times)} ms, max ${Math.max(...times)} ms over ${runs} runs`);
    }
  } finally {
    await gateway.stop();
    await platform.stop();
    await fsp.rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 5000);
  await indexBench(count);
  await playbackStartBench(10);
  await inviteToFirstRtpBench(10);
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
