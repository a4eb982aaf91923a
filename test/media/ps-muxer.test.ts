import * as assert from 'node:assert/strict';
import { AccessUnit } from '../../lib/media/access-unit';
import { PS_MAX_PES_PAYLOAD, PsMuxer, writePackHeader } from '../../lib/media/ps-muxer';
import { readPsm } from './ps-capture-check';

/** Reads back the 33-bit SCR base of a pack header, bit by bit (ISO 13818-1 Table 2-33). */
function scrOf(b: Buffer): number {
  const hi = (b[4] >> 3) & 0x07;
  const mid = ((b[4] & 0x03) << 13) | (b[5] << 5) | (b[6] >> 3);
  const lo = ((b[6] & 0x03) << 13) | (b[7] << 5) | (b[8] >> 3);
  return hi * 2 ** 30 + mid * 2 ** 15 + lo;
}

function pts(b: Buffer, o: number): number {
  return ((b[o] >> 1) & 0x07) * 2 ** 30 + ((b[o + 1] << 7) | (b[o + 2] >> 1)) * 2 ** 15 + ((b[o + 3] << 7) | (b[o + 4] >> 1));
}

function startCodes(pack: Buffer): number[] {
  const codes: number[] = [];
  let o = 0;
  while (o + 4 <= pack.length) {
    assert.equal(pack.readUIntBE(o, 3), 1, `start code expected at ${o}`);
    const code = pack[o + 3];
    codes.push(code);
    o += code === 0xba ? 14 + (pack[o + 13] & 7) : 6 + pack.readUInt16BE(o + 4);
  }
  assert.equal(o, pack.length, 'packets fill the pack exactly');
  return codes;
}

const video = (keyframe: boolean, size: number, dts = 900000, pts = dts): AccessUnit => ({ codec: 'h264', keyframe, dts, pts, data: Buffer.alloc(size, 7) });

describe('PsMuxer (GB28181-2016 Annex C / ISO 13818-1 §2.5)', () => {
  it('writes the 14-byte MPEG-2 pack header with ZLMediaKit\'s mux rate and the SCR it was given', () => {
    const b = Buffer.alloc(14);
    for (const scr of [0, 1, 3600, 123456789, 2 ** 32 + 12345, 2 ** 33 - 1]) {
      assert.equal(writePackHeader(b, 0, scr), 14);
      assert.equal(b.readUInt32BE(0), 0x000001ba);
      assert.equal(b[4] & 0xc4, 0x44, "'01' prefix and marker");
      assert.equal(scrOf(b), scr);
      // Same trailer as ZLMediaKit's capture: marker, mux_rate 6106, no stuffing.
      assert.equal(b.subarray(9).toString('hex'), '01005f6bf8');
    }
  });

  it('keyframe pack: pack header, system header, PSM, one video PES with PTS; SCR = DTS − 3600', () => {
    const mux = new PsMuxer();
    const pack = mux.mux(video(true, 1000));
    assert.ok(pack);
    const buf = Buffer.concat(pack.chunks);
    assert.equal(buf.length, pack.length);
    assert.deepEqual(startCodes(buf), [0xba, 0xbb, 0xbc, 0xe0]);
    assert.equal(scrOf(buf), 900000 - 3600);
    assert.deepEqual(readPsm(buf), [{ streamType: 0x1b, streamId: 0xe0 }]);
    const pes = buf.indexOf(Buffer.from([0, 0, 1, 0xe0]));
    assert.equal(buf[pes + 7], 0x80, 'PTS only when PTS = DTS');
    assert.equal(pts(buf, pes + 9), 900000);
    const next = mux.mux(video(false, 500, 903600));
    assert.ok(next);
    assert.deepEqual(startCodes(Buffer.concat(next.chunks)), [0xba, 0xe0], 'no PSM on a P frame');
  });

  it('splits a large frame into PES of ≤ 0xFF80 bytes, PTS/DTS only on the first, payload referenced not copied', () => {
    const mux = new PsMuxer();
    const au = video(true, 200000, 1000000, 1003600);
    au.data = Buffer.from(Array.from({ length: 200000 }, (_v, i) => i & 0xff));
    const pack = mux.mux(au);
    assert.ok(pack);
    const buf = Buffer.concat(pack.chunks);
    const codes = startCodes(buf);
    assert.deepEqual(codes, [0xba, 0xbb, 0xbc, 0xe0, 0xe0, 0xe0, 0xe0]);
    let o = buf.indexOf(Buffer.from([0, 0, 1, 0xe0]));
    const payload: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const len = buf.readUInt16BE(o + 4);
      const hdr = buf[o + 8];
      if (i === 0) {
        assert.equal(buf[o + 7], 0xc0);
        assert.equal(hdr, 10);
        assert.equal(pts(buf, o + 9), 1003600);
        assert.equal(pts(buf, o + 14), 1000000);
      } else {
        assert.equal(buf[o + 7], 0x00);
        assert.equal(hdr, 0);
      }
      const n = len - 3 - hdr;
      assert.ok(n <= PS_MAX_PES_PAYLOAD);
      payload.push(buf.subarray(o + 9 + hdr, o + 6 + len));
      o += 6 + len;
    }
    assert.ok(Buffer.concat(payload).equals(au.data));
    assert.ok(pack.chunks.some((c) => c.buffer === au.data.buffer), 'payload slices share the frame memory');
  });

  it('declares audio only once asked, bumps the PSM version and drops undeclared audio', () => {
    const mux = new PsMuxer();
    const audio: AccessUnit = { codec: 'pcma', keyframe: false, pts: 900000, dts: 900000, data: Buffer.alloc(160, 0xd5) };
    mux.mux(video(true, 100));
    assert.equal(mux.mux(audio), undefined);
    mux.setAudio('pcma');
    const pack = mux.mux(audio);
    assert.ok(pack);
    const buf = Buffer.concat(pack.chunks);
    assert.deepEqual(startCodes(buf), [0xba, 0xbb, 0xbc, 0xc0], 'PSM repeated when the stream set changes');
    assert.deepEqual(readPsm(buf), [{ streamType: 0x1b, streamId: 0xe0 }, { streamType: 0x90, streamId: 0xc0 }]);
    const psm = buf.indexOf(Buffer.from([0, 0, 1, 0xbc]));
    assert.equal(buf[psm + 6] & 0x1f, 1, 'program_stream_map_version incremented');
    const h265 = new PsMuxer({ audio: 'aac' });
    const p2 = h265.mux({ codec: 'h265', keyframe: true, pts: 0, dts: 0, data: Buffer.alloc(10) });
    assert.ok(p2);
    assert.deepEqual(readPsm(Buffer.concat(p2.chunks)), [{ streamType: 0x24, streamId: 0xe0 }, { streamType: 0x0f, streamId: 0xc0 }]);
    const ulaw = new PsMuxer({ audio: 'pcmu' });
    const p3 = ulaw.mux({ codec: 'pcmu', keyframe: false, pts: 0, dts: 0, data: Buffer.alloc(10) });
    assert.ok(p3);
    assert.deepEqual(readPsm(Buffer.concat(p3.chunks)), [{ streamType: 0x91, streamId: 0xc0 }]);
  });

  it('keeps 33-bit timestamps and wraps the SCR below zero', () => {
    const mux = new PsMuxer();
    const pack = mux.mux(video(true, 10, 1000, 2 ** 33 - 10));
    assert.ok(pack);
    const buf = Buffer.concat(pack.chunks);
    assert.equal(scrOf(buf), 2 ** 33 + 1000 - 3600);
    const pes = buf.indexOf(Buffer.from([0, 0, 1, 0xe0]));
    assert.equal(pts(buf, pes + 9), 2 ** 33 - 10);
    assert.equal(pts(buf, pes + 14), 1000);
  });
});
