/**
 * The recorder on a real shared camera ingest (CameraFeed pulling GStreamer's RTSP server), next
 * to a second subscriber standing in for a live viewer: one RTSP connection, segments that the
 * archive lists and that decode without errors.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AccessUnit } from '../../lib/media/access-unit';
import { CameraFeed } from '../../lib/media/camera-feed';
import { locateFfTool } from '../../lib/media/ffmpeg-path';
import { RecordArchive } from '../../lib/record/record-archive';
import { AccessUnitFeed, Recorder } from '../../lib/record/recorder';
import { GstCamera } from '../media/gst-camera';
import { FFMPEG, FFPROBE, TZ, run, tempDir } from './record-fixtures';

// Compile-time check that the media side's CameraFeed is what the recorder subscribes to.
const feedShape: (f: CameraFeed) => AccessUnitFeed = (f) => f;

/** Established TCP connections to a local port (what the camera sees). */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

describe('record/Recorder on the shared camera ingest', function () {
  this.timeout(60_000);
  let root: string;
  let camera: GstCamera | undefined;
  let feed: CameraFeed | undefined;
  let recorder: Recorder | undefined;
  let archive: RecordArchive | undefined;

  before(async () => {
    root = await tempDir('camera');
  });

  after(async () => {
    await recorder?.stop();
    feed?.stop();
    await camera?.stop();
    await archive?.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('records from the same pull a live viewer uses: one RTSP connection, listed and decodable segments', async () => {
    camera = await GstCamera.start('h264', 'aac');
    const cam = camera;
    const port = Number(new URL(cam.url).port);
    feed = new CameraFeed({ spec: { key: 'cam1', url: cam.url, displayUrl: cam.url, rtspTransport: 'tcp' }, ffmpeg: locateFfTool('ffmpeg') });
    const viewerUnits: AccessUnit[] = [];
    feed.subscribe({ onUnit: (au) => viewerUnits.push(au), onDiscontinuity: () => undefined });
    feed.start();
    const folder = path.join(root, 'rec');
    archive = new RecordArchive({ channelId: '34020000001320000001', folders: [folder], timeZone: TZ, ffprobePath: FFPROBE, settleMs: 300 });
    archive.start();
    const arch = archive;
    recorder = new Recorder({ channelId: '34020000001320000001', folder, timeZone: TZ, mode: 'continuous', segmentSeconds: 2, feed: feedShape(feed), onSegmentClosed: (f) => arch.refresh(f) });
    const segments: string[] = [];
    recorder.on('segment', (s) => segments.push(s.path));
    recorder.start();
    const t0 = Date.now();
    while (segments.length < 2 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 200));
    assert.equal(connectionsTo(port), 1, 'the camera sees one RTSP connection');
    const full = segments.slice(0, 2); // stop() closes a third, shorter one
    await recorder.stop();
    assert.ok(segments.length >= 2, `segments closed: ${segments.length}`);
    assert.ok(viewerUnits.length > 50, 'the viewer got the same stream meanwhile');

    const listed = arch.query(0, Date.now() + 60_000);
    assert.equal(listed.length, segments.length, 'every closed segment is listed');
    for (const s of listed.filter((l) => full.includes(l.path))) {
      assert.ok(s.endMs - s.startMs > 1500 && s.endMs - s.startMs < 3500, `duration ${s.endMs - s.startMs}`);
      assert.equal(s.videoCodec, 'h264');
      assert.equal(s.audioCodec, 'aac');
      await run(FFMPEG, ['-v', 'error', '-xerror', '-i', s.path, '-f', 'null', '-']);
    }
    assert.ok(Math.abs(listed[1].startMs - listed[0].endMs) < 1500, 'segments follow each other');
  });
});
