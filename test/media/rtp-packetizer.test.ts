import * as assert from 'node:assert/strict';
import { PsPack } from '../../lib/media/ps-muxer';
import { RtpPacketizer, ssrcFromY } from '../../lib/media/rtp-packetizer';

function pack(size: number, chunkSizes: number[] = [size]): PsPack {
  const data = Buffer.from(Array.from({ length: size }, (_v, i) => (i * 31) & 0xff));
  const chunks: Buffer[] = [];
  let o = 0;
  for (const n of chunkSizes) { chunks.push(data.subarray(o, o + n)); o += n; }
  return { chunks, length: size, dts: 0, keyframe: false, video: true };
}

describe('RtpPacketizer (RFC 3550, RFC 4571, GB28181-2016 Annex C)', () => {
  it('splits a pack into ≤ 1400-byte packets: one timestamp, marker on the last, sequence continuous', () => {
    const rtp = new RtpPacketizer({ ssrc: 100000001, initialSequence: 10 });
    const p = pack(5000, [14, 30, 9, 4947]);
    const frame = rtp.packetize(p, 123456);
    assert.equal(frame.packets.length, 4);
    frame.packets.forEach((pkt, i) => {
      assert.ok(pkt.length <= 1400);
      assert.equal(pkt[0], 0x80);
      assert.equal(pkt[1] & 0x7f, 96);
      assert.equal((pkt[1] & 0x80) !== 0, i === 3, 'marker only on the last packet');
      assert.equal(pkt.readUInt16BE(2), 10 + i);
      assert.equal(pkt.readUInt32BE(4), 123456);
      assert.equal(pkt.readUInt32BE(8), 100000001);
    });
    assert.ok(Buffer.concat(frame.packets.map((x) => x.subarray(12))).equals(Buffer.concat(p.chunks)));
    // RFC 4571 framing: each packet behind its 2-byte big-endian length.
    let o = 0;
    for (const pkt of frame.packets) {
      assert.equal(frame.framed.readUInt16BE(o), pkt.length);
      assert.ok(frame.framed.subarray(o + 2, o + 2 + pkt.length).equals(pkt));
      o += 2 + pkt.length;
    }
    assert.equal(o, frame.framed.length);
    assert.equal(rtp.nextSequence, 14);
  });

  it('wraps the sequence number at 65535 and the timestamp at 2^32; honours PT and payload size', () => {
    const rtp = new RtpPacketizer({ ssrc: 1, payloadType: 100, maxPayload: 100, initialSequence: 65534 });
    const frame = rtp.packetize(pack(250), 2 ** 32 + 5);
    assert.deepEqual(frame.packets.map((x) => x.readUInt16BE(2)), [65534, 65535, 0]);
    assert.deepEqual(frame.packets.map((x) => x.length), [112, 112, 62]);
    assert.equal(frame.packets[0].readUInt32BE(4), 5);
    assert.equal(frame.packets[0][1] & 0x7f, 100);
    const one = rtp.packetize(pack(100), 9);
    assert.equal(one.packets.length, 1);
    assert.equal(one.packets[0][1] & 0x80, 0x80);
    assert.equal(one.packets[0].readUInt16BE(2), 1);
  });

  it('SSRC is the decimal value of y= (leading zero kept in SDP, GB28181-2016 §C.2)', () => {
    assert.equal(ssrcFromY('0100000001'), 100000001);
    assert.equal(ssrcFromY('1340200001'), 1340200001);
    assert.throws(() => ssrcFromY('4294967296'), RangeError);
    assert.throws(() => ssrcFromY('0x10'), RangeError);
    assert.throws(() => ssrcFromY(''), RangeError);
  });
});
