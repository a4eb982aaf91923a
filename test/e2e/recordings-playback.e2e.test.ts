/**
 * Issue #7 "Done when", through the headless runner's Gateway against the platform emulator on
 * 127.0.0.1: RecordInfo over two days of AVI/MP4 segments (one gap, one folder named by end
 * times), Playback across the gap over UDP and TCP, MANSRTSP PAUSE/PLAY/seek/Scale, and Download
 * at 4× ending with MediaStatus 121 in the INVITE's dialog. The recordings are made by ffmpeg with
 * a picture whose grey level is the recording's own second (test/record/record-fixtures), so a
 * wrong seek or a wrong gap skip shows in the decoded frames.
 */
import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Gateway } from '../../lib/gateway/gateway';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { InviteSession } from '../../lib/sim/platform/invite-session';
import { RtpPacketRecord } from '../../lib/sim/platform/rtp-ps-receiver';
import { FPS, codeOfSecond, makeSegment, runsOf, secondOfDay, tempDir } from '../record/record-fixtures';
import {
  CH1, CH2, DEVICE_ID, decodePsCodes, mansRtsp, nextDialogMessage, rawQuery, shanghaiSec, sourceConfig, startPair, waitUntil,
} from './recordings-harness';

const D1 = '2025-06-12';
const D2 = '2025-06-13';
const code = (hms: string): number => codeOfSecond(secondOfDay(hms));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('recordings through the headless runner (e2e): RecordInfo, Playback, MANSRTSP, Download', function () {
  this.timeout(90_000);
  let root: string;
  let platform: PlatformEmulator;
  let gateway: Gateway;
  const sessions: InviteSession[] = [];

  before(async () => {
    root = await tempDir('e2e-play');
    const a = path.join(root, 'nvr');
    const b = path.join(root, 'export');
    const seg = (dir: string, rel: string, hms: string, seconds: number): Promise<void> => makeSegment(path.join(dir, rel), secondOfDay(hms), seconds);
    // Day 1: 10:00:00-10:00:12 in two files, gap, 10:00:20-10:00:32 in two files, and a 60 s file.
    await Promise.all([
      seg(a, `${D1}/10-00-00.mp4`, '10:00:00', 6), seg(a, `${D1}/10-00-06.avi`, '10:00:06', 6),
      seg(a, `${D1}/10-00-20.mp4`, '10:00:20', 6), seg(a, `${D1}/10-00-26.avi`, '10:00:26', 6),
    ]);
    await Promise.all([
      seg(a, `${D1}/11-00-00.mp4`, '11:00:00', 60),
      seg(a, `${D2}/08-00-00.avi`, '08:00:00', 4), seg(a, `${D2}/08-00-04.mp4`, '08:00:04', 4),
      // Channel 2's export names each file by its END: 09-00-04 holds 09:00:00-09:00:04.
      seg(b, `${D2}/09-00-04.mp4`, '09:00:00', 4),
    ]);
    ({ platform, gateway } = await startPair(() => [
      sourceConfig(CH1, 'rtsp://127.0.0.1:9/unused', [a]),
      sourceConfig(CH2, 'rtsp://127.0.0.1:9/unused', [b], { nameMarks: 'end' }),
    ], { recordCacheDir: path.join(root, 'cache') }));
    await gateway.recordings?.channel(CH1)?.archive.whenIndexed();
    await gateway.recordings?.channel(CH2)?.archive.whenIndexed();
  });

  afterEach(async () => {
    for (const s of sessions.splice(0)) if (!s.isEnded) await s.bye().catch(() => s.close());
  });

  after(async () => {
    await gateway?.stop();
    await platform?.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('RecordInfo lists each day\'s exact spans over several MESSAGEs, SumNum 0 for an empty range, and answers <Secrecy> 0 </Secrecy>', async () => {
    const day1 = await platform.queryRecordInfo(DEVICE_ID, CH1, `${D1}T00:00:00`, `${D1}T23:59:59`);
    const spans = (items: Record<string, string>[]): string[] => items.map((i) => `${i.StartTime}/${i.EndTime}`).sort();
    assert.equal(day1.sumNum, 5);
    assert.ok(day1.messages >= 3, `split over ${day1.messages} MESSAGEs`);
    assert.deepEqual(spans(day1.items), [
      `${D1}T10:00:00/${D1}T10:00:06`, `${D1}T10:00:06/${D1}T10:00:12`,
      `${D1}T10:00:20/${D1}T10:00:26`, `${D1}T10:00:26/${D1}T10:00:32`, `${D1}T11:00:00/${D1}T11:01:00`,
    ]);
    for (const i of day1.items) {
      assert.equal(i.DeviceID, CH1);
      assert.match(i.FilePath, /\.(mp4|avi)$/);
      assert.ok(Number(i.FileSize) > 0);
    }
    const day2 = await platform.queryRecordInfo(DEVICE_ID, CH1, `${D2}T00:00:00`, `${D2}T23:59:59`);
    assert.deepEqual(spans(day2.items), [`${D2}T08:00:00/${D2}T08:00:04`, `${D2}T08:00:04/${D2}T08:00:08`]);
    const ends = await platform.queryRecordInfo(DEVICE_ID, CH2, `${D2}T00:00:00`, `${D2}T23:59:59`);
    assert.deepEqual(spans(ends.items), [`${D2}T09:00:00/${D2}T09:00:04`], 'a file named by its end time');
    const empty = await platform.queryRecordInfo(DEVICE_ID, CH1, `${D1}T12:00:00`, `${D1}T13:00:00`);
    assert.equal(empty.sumNum, 0);
    assert.equal(empty.items.length, 0);

    // WVP writes <Secrecy> 0 </Secrecy> with spaces (notes §8.1).
    const sn = '734512';
    const xml = `<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>RecordInfo</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${CH1}</DeviceID>\r\n`
      + `<StartTime>${D2}T00:00:00</StartTime>\r\n<EndTime>${D2}T23:59:59</EndTime>\r\n<Secrecy> 0 </Secrecy>\r\n<Type>all</Type>\r\n</Query>\r\n`;
    const devicePort = gateway.gbDevice?.localSipPort() ?? 0;
    const raw = await rawQuery(devicePort, xml, sn, (docs) => docs.reduce((n, d) => n + d.items.length, 0) >= Number(docs[0].fields.SumNum));
    assert.equal(raw.status, 200);
    assert.equal(raw.docs[0].fields.SumNum, '2');
    assert.deepEqual(spans(raw.docs.flatMap((d) => d.items)), spans(day2.items));
  });

  it('plays from mid-file to mid-file across the gap over UDP and TCP: first picture at the start, range minus gap received, MediaStatus 121, BYE answered', async () => {
    const play = async (transport: 'udp' | 'tcp-passive'): Promise<void> => {
      const output = path.join(root, `play-${transport}.ps`);
      const session = await platform.invite(DEVICE_ID, CH1, {
        transport, sessionType: 'Playback', startTime: shanghaiSec(D1, '10:00:09'), endTime: shanghaiSec(D1, '10:00:23'), output,
      });
      sessions.push(session);
      assert.equal(session.status, 200);
      assert.deepEqual(session.sdpProblems, []);
      const t0 = Date.now();
      const status = await nextDialogMessage(session, 'MediaStatus', 20_000);
      assert.equal(status.fields.NotifyType, '121');
      const wall = status.at - t0;
      // 6 s of recording (10:00:09-10:00:12 and 10:00:20-10:00:23), the gap skipped at once.
      assert.ok(wall > 4500 && wall < 9000, `${transport}: ${wall} ms for 6 s of recording`);
      const bye = await platform.sendInDialog(session, 'BYE');
      assert.equal(bye.status, 200, 'the BYE after MediaStatus is answered');
      session.close();
      await sleep(100);
      const { codes, errors } = await decodePsCodes(await fsp.readFile(output));
      assert.equal(errors.trim(), '', `${transport}: decodes without errors`);
      assert.deepEqual(runsOf(codes), ['10:00:09', '10:00:10', '10:00:11', '10:00:20', '10:00:21', '10:00:22'].map(code), `${transport}: seconds shown`);
      assert.ok(Math.abs(codes.length - 6 * FPS) <= FPS, `${transport}: ${codes.length} frames for 6 s`);
    };
    await Promise.all([play('udp'), play('tcp-passive')]);
  });

  it('PAUSE stops packets within 200 ms, PLAY resumes from the same place, a seek lands within one GOP, Scale 4 delivers ~4 s of recording per second', async () => {
    const pauseAndSeek = async (): Promise<void> => {
      const output = path.join(root, 'pause.ps');
      const session = await platform.invite(DEVICE_ID, CH1, {
        transport: 'tcp-active', sessionType: 'Playback', startTime: shanghaiSec(D1, '10:00:00'), endTime: shanghaiSec(D1, '10:00:12'), output,
      });
      sessions.push(session);
      const arrivals: number[] = [];
      session.on('rtp', (r: RtpPacketRecord) => arrivals.push(r.at));
      await waitUntil(() => arrivals.length > 0, 5000, 'first RTP');
      await sleep(1200);
      const pausedAt = Date.now();
      assert.equal(await session.info(mansRtsp(['PAUSE RTSP/1.0', 'PauseTime: now'])), 200);
      await sleep(1000);
      const sinceQuiet = arrivals.filter((t) => t > pausedAt + 200).length;
      assert.equal(sinceQuiet, 0, `${sinceQuiet} packets later than 200 ms after PAUSE`);
      const beforeResume = arrivals.length;
      const resumedAt = Date.now();
      assert.equal(await session.info(mansRtsp(['PLAY RTSP/1.0', 'Range: npt=now-'])), 200);
      await waitUntil(() => arrivals.length > beforeResume, 1000, 'packets after PLAY');
      assert.ok(arrivals[beforeResume] - resumedAt < 500, 'resumes at once');
      await sleep(1000);
      assert.equal(await session.info(mansRtsp(['PLAY RTSP/1.0', 'Range: npt=8-'])), 200);
      await sleep(1500);
      await session.bye();
      await sleep(100);
      const { codes, errors } = await decodePsCodes(await fsp.readFile(output));
      assert.equal(errors.trim(), '');
      const runs = runsOf(codes);
      const jump = runs.findIndex((c, i) => i > 0 && c !== (runs[i - 1] + 1) % 36);
      assert.ok(jump > 0, `a seek shows as a jump: ${runs.join(',')}`);
      const before = runs.slice(0, jump);
      assert.deepEqual(before, before.map((_, i) => code('10:00:00') + i), `paused and resumed without a skip: ${runs.join(',')}`);
      // ~2.2 s played before the seek (the 1 s pause holds the position).
      assert.ok(before.length >= 2 && before.length <= 4, `seconds before the seek: ${before.join(',')}`);
      assert.ok([code('10:00:07'), code('10:00:08')].includes(runs[jump]), `seek to npt=8 landed on ${runs[jump]} (expected ${code('10:00:08')})`);
    };
    const scale = async (): Promise<void> => {
      const session = await platform.invite(DEVICE_ID, CH1, {
        transport: 'udp', sessionType: 'Playback', startTime: shanghaiSec(D1, '10:00:20'), endTime: shanghaiSec(D1, '10:00:32'),
      });
      sessions.push(session);
      const packets: RtpPacketRecord[] = [];
      session.on('rtp', (r: RtpPacketRecord) => packets.push(r));
      await waitUntil(() => packets.length > 0, 5000, 'first RTP');
      await sleep(300);
      assert.equal(await session.info(mansRtsp(['PLAY RTSP/1.0', 'Scale: 4.000000'])), 200);
      const t = Date.now();
      await sleep(1800);
      const frames = new Set(packets.filter((p) => p.at >= t + 300 && p.at < t + 1800).map((p) => p.ts)).size;
      const recordedSeconds = frames / FPS;
      assert.ok(Math.abs(recordedSeconds / 1.5 - 4) <= 0.6, `Scale 4: ${recordedSeconds.toFixed(2)} s of recording in 1.5 s`);
      await session.bye();
    };
    await Promise.all([pauseAndSeek(), scale()]);
  });

  it('Download at downloadspeed 4 of a 60 s span takes ~15 s with timestamps in recording time; MediaStatus 121 in the INVITE\'s Call-ID; the BYE is answered', async () => {
    const output = path.join(root, 'download.ps');
    const session = await platform.invite(DEVICE_ID, CH1, {
      transport: 'udp', sessionType: 'Download', startTime: shanghaiSec(D1, '11:00:00'), endTime: shanghaiSec(D1, '11:01:00'), downloadSpeed: 4, output,
    });
    sessions.push(session);
    const t0 = Date.now();
    // The emulator finds an in-dialog MESSAGE by Call-ID: arriving on the session proves the Call-ID.
    const status = await nextDialogMessage(session, 'MediaStatus', 30_000);
    const wall = (status.at - t0) / 1000;
    assert.equal(status.fields.NotifyType, '121');
    assert.equal(status.fields.DeviceID, CH1);
    assert.ok(Math.abs(wall - 15) <= 15 * 0.15, `download took ${wall.toFixed(1)} s`);
    const packets = session.packets;
    const spanS = ((packets[packets.length - 1].ts - packets[0].ts) >>> 0) / 90000;
    assert.ok(Math.abs(spanS - 60) < 1.5, `RTP timestamps span ${spanS.toFixed(2)} s of recording`);
    const bye = await platform.sendInDialog(session, 'BYE');
    assert.equal(bye.status, 200);
    session.close();
    await sleep(100);
    const { codes, errors } = await decodePsCodes(await fsp.readFile(output));
    assert.equal(errors.trim(), '');
    assert.ok(Math.abs(codes.length - 60 * FPS) <= FPS, `${codes.length} frames downloaded`);
  });
});
