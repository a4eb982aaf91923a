import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ChannelRecording, channelsRecordQuery } from '../../lib/record/channel-recording';
import { AccessUnitSubscriber } from '../../lib/record/playback-source';
import { StreamRequest } from '../../lib/session/stream-contract';
import { FFMPEG, FFPROBE, TZ, makeSegment, secondOfDay, shanghaiMs, tempDir } from './record-fixtures';

describe('record/ChannelRecording', function () {
  this.timeout(30_000);
  let root: string;

  before(async () => {
    root = await tempDir('channel');
    await makeSegment(path.join(root, '2025-06-12/10-00-00.mp4'), secondOfDay('10:00:00'), 3);
  });

  after(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('wires archive, recorder lease, RecordQuery and playback for a channel', async () => {
    const subs = new Set<AccessUnitSubscriber>();
    let leases = 0;
    const feed = { subscribe: (s: AccessUnitSubscriber) => { subs.add(s); }, unsubscribe: (s: AccessUnitSubscriber) => { subs.delete(s); } };
    const ch = new ChannelRecording(
      { channelId: '34020000001320000001', name: 'Gate', recordDirs: [root], timeZone: TZ, recorder: { mode: 'on-command', segmentSeconds: 60 } },
      { ffprobePath: FFPROBE, ffmpegPath: FFMPEG, feedLease: { acquire: () => { leases++; return feed; }, release: () => { leases--; } } },
    );
    ch.start();
    await ch.archive.whenIndexed();
    const query = channelsRecordQuery(new Map([[ch.config.channelId, ch]]), TZ);
    const items = await query('34020000001320000001', shanghaiMs('2025-06-12', '00:00:00'), shanghaiMs('2025-06-12', '23:59:59'));
    assert.deepEqual(items.map((i) => [i.name, i.startTime, i.endTime]), [['Gate', '2025-06-12T10:00:00', '2025-06-12T10:00:03']]);
    assert.ok(ch.recorder);
    assert.equal(ch.recorder.recordCommand(), true);
    assert.equal(leases, 1);
    assert.equal(subs.size, 1);
    const req: StreamRequest = {
      callId: 'c1', deviceId: 'd', channelId: '34020000001320000001', sessionType: 'Playback', transport: 'udp', remoteIp: '127.0.0.1', remotePort: 9,
      ssrc: '1', payloadType: 96, streamNumber: 0, startTime: shanghaiMs('2025-06-12', '10:00:01') / 1000, endTime: shanghaiMs('2025-06-12', '10:00:02') / 1000,
    };
    const src = ch.openPlayback(req);
    const first = new Promise((resolve) => src.once('unit', (au) => resolve(au.keyframe)));
    src.start();
    assert.equal(await first, true);
    src.stop();
    await ch.stop();
    assert.equal(leases, 0, 'lease released on stop');

    const endNamed = new ChannelRecording({ channelId: 'x', recordDirs: [{ dir: root, nameMarks: 'end' }], timeZone: TZ, recorder: { mode: 'continuous' } }, { ffprobePath: FFPROBE, ffmpegPath: FFMPEG, feed });
    assert.equal(endNamed.recorder, undefined, 'no recorder into a folder named by end times');
  });
});
