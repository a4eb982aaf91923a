/**
 * Tells whether an RTP packet opens a keyframe access unit, so the relay can cache the GOP and
 * start late clients on a decodable frame. Only the payload headers are read, nothing is rewritten.
 */
export type SimulatedVideoCodec = 'h264' | 'h265';

/** H.264: SPS (7), PPS (8) or IDR slice (5), carried whole, in a STAP-A or as the first FU-A fragment (RFC 6184 §5.6–5.8). */
function h264OpensKeyframe(payload: Buffer): boolean {
  if (payload.length < 2) return false;
  const type = payload[0] & 0x1f;
  if (type === 5 || type === 7 || type === 8) return true;
  if (type === 24) {
    // STAP-A: [hdr][size16][nal]...; look at every aggregated NAL unit.
    let off = 1;
    while (off + 3 <= payload.length) {
      const size = payload.readUInt16BE(off);
      const t = payload[off + 2] & 0x1f;
      if (t === 5 || t === 7 || t === 8) return true;
      off += 2 + size;
    }
    return false;
  }
  if (type === 28) {
    // FU-A: start bit in the FU header, original type in its low 5 bits.
    const fu = payload[1];
    return (fu & 0x80) !== 0 && (fu & 0x1f) === 5;
  }
  return false;
}

function h265IsKeyType(t: number): boolean {
  // VPS 32, SPS 33, PPS 34, IRAP 16..21 (BLA, IDR, CRA) — ITU-T H.265 Table 7-1.
  return (t >= 16 && t <= 21) || t === 32 || t === 33 || t === 34;
}

/** H.265: parameter sets or an IRAP slice, whole, in an AP (48) or first FU (49) — RFC 7798 §4.4. */
function h265OpensKeyframe(payload: Buffer): boolean {
  if (payload.length < 3) return false;
  const type = (payload[0] >> 1) & 0x3f;
  if (h265IsKeyType(type)) return true;
  if (type === 48) {
    let off = 2;
    while (off + 3 <= payload.length) {
      const size = payload.readUInt16BE(off);
      if (h265IsKeyType((payload[off + 2] >> 1) & 0x3f)) return true;
      off += 2 + size;
    }
    return false;
  }
  if (type === 49) {
    const fu = payload[2];
    return (fu & 0x80) !== 0 && h265IsKeyType(fu & 0x3f);
  }
  return false;
}

/** Offset of the RTP payload (RFC 3550 §5.1: fixed header, CSRCs, extension), or -1 if malformed. */
export function rtpPayloadOffset(packet: Buffer): number {
  if (packet.length < 12 || (packet[0] >> 6) !== 2) return -1;
  let off = 12 + (packet[0] & 0x0f) * 4;
  if (packet[0] & 0x10) {
    if (packet.length < off + 4) return -1;
    off += 4 + packet.readUInt16BE(off + 2) * 4;
  }
  return off <= packet.length ? off : -1;
}

export function rtpOpensKeyframe(codec: SimulatedVideoCodec, packet: Buffer): boolean {
  const off = rtpPayloadOffset(packet);
  if (off < 0) return false;
  const payload = packet.subarray(off);
  return codec === 'h264' ? h264OpensKeyframe(payload) : h265OpensKeyframe(payload);
}
