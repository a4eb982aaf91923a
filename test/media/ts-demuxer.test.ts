import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { AudioAccessUnitStage } from '../../lib/media/audio-access-unit-stage';
import { H26xAccessUnitStage } from '../../lib/media/h26x-access-unit-stage';
import { ElementaryPacket, TsDemuxer } from '../../lib/media/ts-demuxer';

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';

interface ProbePacket { codec_type: string; pts: number; dts: number; flags: string }

/** An MPEG-TS made by ffmpeg (B-frames so PTS ≠ DTS) and what ffprobe says is in it. */
function makeTs(video: 'libx264' | 'libx265'): { ts: Buffer; packets: ProbePacket[] } {
  const ts = execFileSync(FFMPEG, ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=r=44100',
    '-t', '2', '-c:v', video, '-g', '10', '-bf', '2', ...(video === 'libx265' ? ['-x265-params', 'log-level=error'] : []), '-c:a', 'aac', '-f', 'mpegts', 'pipe:1'], { maxBuffer: 64 << 20 });
  const json = execFileSync(FFPROBE, ['-v', 'error', '-show_entries', 'packet=codec_type,pts,dts,flags', '-of', 'json', '-'], { input: ts, maxBuffer: 64 << 20 }).toString();
  return { ts, packets: (JSON.parse(json) as { packets: ProbePacket[] }).packets };
}

function demuxInChunks(ts: Buffer): ElementaryPacket[] {
  const out: ElementaryPacket[] = [];
  const d = new TsDemuxer((p) => out.push({ ...p, data: Buffer.from(p.data) }));
  let o = 0;
  let n = 1;
  while (o < ts.length) {
    const size = (n * 7919) % 1500 + 1; // odd sizes, across packet boundaries
    d.push(ts.subarray(o, o + size));
    o += size;
    n++;
  }
  beforeFlush = out.length;
  d.flush();
  return out;
}
let beforeFlush = 0;

describe('TsDemuxer and access-unit stages (ISO 13818-1 §2.4; ISO 14496-10/23008-2 Annex B)', function () {
  this.timeout(30000);

  for (const codec of ['libx264', 'libx265'] as const) {
    it(`${codec}: every video PES with ffprobe's PTS/DTS, keyframes flagged, AUD and parameter sets in place`, () => {
      const { ts, packets } = makeTs(codec);
      const pes = demuxInChunks(ts);
      const videoType = codec === 'libx264' ? 0x1b : 0x24;
      const video = pes.filter((p) => p.streamType === videoType);
      const expected = packets.filter((p) => p.codec_type === 'video');
      assert.equal(video.length, expected.length);
      // Frames end at ffmpeg's stuffed last TS packet: delivered without waiting for the next PES.
      assert.ok(beforeFlush >= pes.length - 1, `${pes.length - beforeFlush} PES only came out on flush`);
      video.forEach((p, i) => {
        assert.equal(p.pts, Number(expected[i].pts), `pts of frame ${i}`);
        assert.equal(p.dts, Number(expected[i].dts), `dts of frame ${i}`);
      });
      assert.ok(video.some((p) => p.pts !== p.dts), 'B-frames give PTS ≠ DTS');

      const stage = new H26xAccessUnitStage(codec === 'libx264' ? 'h264' : 'h265');
      const units = video.map((p) => stage.process(p.data, p.pts, p.dts));
      const keys = units.map((u) => !!u?.keyframe);
      assert.deepEqual(keys, expected.map((p) => p.flags.startsWith('K')));
      const aud = codec === 'libx264' ? '0000000109f0' : '00000001460150';
      for (const u of units) {
        assert.ok(u);
        assert.equal(u.data.subarray(0, aud.length / 2).toString('hex'), aud, 'AUD first');
        assert.equal(u.data.indexOf(Buffer.from(aud, 'hex'), 1), -1, 'exactly one AUD');
      }
      // Strip the parameter sets from a later keyframe: the stage puts the remembered ones back.
      const laterKey = video.findIndex((_p, i) => i > 0 && keys[i]);
      assert.ok(laterKey > 0);
      const nalType = (b: number): number => (codec === 'libx264' ? b & 0x1f : (b >> 1) & 0x3f);
      const paramTypes = codec === 'libx264' ? [7, 8] : [32, 33, 34];
      const vclOnly = video[laterKey].data;
      const parts = vclOnly.toString('hex').split(/(?=00000001|(?<!00)000001)/);
      const kept = parts.filter((h) => { const b = Buffer.from(h.replace(/^0*1/, ''), 'hex'); return b.length && !paramTypes.includes(nalType(b[0])); });
      const fresh = new H26xAccessUnitStage(codec === 'libx264' ? 'h264' : 'h265');
      fresh.process(video[0].data, 0, 0);
      const repaired = fresh.process(Buffer.from(kept.join(''), 'hex'), 1, 1);
      assert.ok(repaired?.keyframe);
      const types: number[] = [];
      let o = 0;
      while ((o = repaired.data.indexOf(Buffer.from([0, 0, 0, 1]), o)) >= 0) { types.push(nalType(repaired.data[o + 4])); o += 4; }
      assert.deepEqual(types.slice(0, paramTypes.length + 1), [codec === 'libx264' ? 9 : 35, ...paramTypes]);
    });
  }

  it('AAC: splits ADTS PES payloads into frames with their own timestamps', () => {
    const { ts, packets } = makeTs('libx264');
    const audio = demuxInChunks(ts).filter((p) => p.streamType === 0x0f);
    const stage = new AudioAccessUnitStage('aac');
    const units = audio.flatMap((p) => stage.process(p.data, p.pts));
    const expected = packets.filter((p) => p.codec_type === 'audio');
    assert.equal(units.length, expected.length);
    assert.equal(units[0].pts, Number(expected[0].pts));
    for (const u of units) assert.equal(u.data[0], 0xff, 'ADTS sync word kept');
    // 1024 samples at 44.1 kHz ≈ 2090 ticks apart
    assert.ok(Math.abs(units[5].pts - Number(expected[5].pts)) <= 5);
  });

  it('G.711 passes through; a lost TS sync byte is skipped and counted', () => {
    const stage = new AudioAccessUnitStage('pcma');
    assert.deepEqual(stage.process(Buffer.from([1, 2, 3]), 90).map((u) => [u.codec, u.pts, u.data.length]), [['pcma', 90, 3]]);
    const { ts } = makeTs('libx264');
    const out: ElementaryPacket[] = [];
    const d = new TsDemuxer((p) => out.push(p));
    d.push(Buffer.concat([Buffer.from([1, 2, 3]), ts]));
    d.flush();
    assert.equal(d.lostSyncBytes, 3);
    assert.ok(out.length > 50);
  });
});
