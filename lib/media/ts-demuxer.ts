/**
 * MPEG-TS demuxer (ISO 13818-1 §2.4.3 transport packets, §2.4.4 PAT/PMT, §2.4.3.6 PES): turns the
 * byte stream ffmpeg writes into whole PES payloads with their 90 kHz PTS/DTS. It follows only the
 * first program; packets may arrive in chunks of any size.
 */
export interface ElementaryPacket {
  pid: number;
  /** stream_type from the PMT (0x1B H.264, 0x24 H.265, 0x0F AAC, 0x06 private data, ...). */
  streamType: number;
  /** Index of this stream in PMT order (ffmpeg writes output streams in order). */
  streamIndex: number;
  pts: number;
  dts: number;
  data: Buffer;
}

export interface TsProgramStream {
  pid: number;
  streamType: number;
  streamIndex: number;
}

const TS_PACKET = 188;
const SYNC = 0x47;

interface PesAssembly {
  chunks: Buffer[];
  size: number;
  expected: number; // PES_packet_length + 6, or 0 when unbounded (video)
}

export class TsDemuxer {
  private pending: Buffer | undefined;
  private pmtPid = -1;
  private readonly streams = new Map<number, TsProgramStream>();
  private readonly assemblies = new Map<number, PesAssembly>();
  /** TS packets skipped because they did not start with 0x47 (resync). */
  lostSyncBytes = 0;

  constructor(
    private readonly onPacket: (packet: ElementaryPacket) => void,
    private readonly onProgram: (streams: TsProgramStream[]) => void = () => undefined,
  ) {}

  /** Feeds bytes; complete PES payloads are delivered synchronously through onPacket. */
  push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let off = 0;
    while (buf.length - off >= TS_PACKET) {
      if (buf[off] !== SYNC) {
        const next = buf.indexOf(SYNC, off + 1);
        this.lostSyncBytes += (next < 0 ? buf.length : next) - off;
        if (next < 0) { off = buf.length; break; }
        off = next;
        continue;
      }
      this.packet(buf.subarray(off, off + TS_PACKET));
      off += TS_PACKET;
    }
    if (off < buf.length) {
      // Copy so a retained tail does not pin the caller's whole chunk.
      buf = Buffer.from(buf.subarray(off));
      this.pending = buf;
    }
  }

  /** Delivers whatever PES is still being assembled (end of stream). */
  flush(): void {
    for (const pid of [...this.assemblies.keys()]) this.finishPes(pid);
  }

  /** Forgets all state (a new ffmpeg process starts a new TS). */
  reset(): void {
    this.pending = undefined;
    this.pmtPid = -1;
    this.streams.clear();
    this.assemblies.clear();
  }

  private packet(p: Buffer): void {
    const pusi = (p[1] & 0x40) !== 0;
    const pid = ((p[1] & 0x1f) << 8) | p[2];
    const afc = (p[3] >> 4) & 0x3;
    let off = 4;
    if (afc === 2 || afc === 0) return; // adaptation only / reserved: no payload
    if (afc === 3) off += 1 + p[4];
    if (off >= TS_PACKET) return;
    const payload = p.subarray(off);
    if (pid === 0) { if (pusi) this.parsePat(payload); return; }
    if (pid === this.pmtPid) { if (pusi) this.parsePmt(payload); return; }
    if (!this.streams.has(pid)) return;
    if (pusi) {
      this.finishPes(pid);
      this.assemblies.set(pid, { chunks: [Buffer.from(payload)], size: payload.length, expected: 0 });
      const a = this.assemblies.get(pid) as PesAssembly;
      if (payload.length >= 6) {
        const len = payload.readUInt16BE(4);
        a.expected = len ? len + 6 : 0;
      }
    } else {
      const a = this.assemblies.get(pid);
      if (!a) return; // joined mid-PES
      a.chunks.push(Buffer.from(payload));
      a.size += payload.length;
    }
    const a = this.assemblies.get(pid);
    if (!a) return;
    if (a.expected ? a.size >= a.expected : afc === 3 && hasStuffing(p)) this.finishPes(pid);
  }

  private section(payload: Buffer): Buffer | undefined {
    const pointer = payload[0];
    const start = 1 + pointer;
    if (start + 3 > payload.length) return undefined;
    const len = ((payload[start + 1] & 0x0f) << 8) | payload[start + 2];
    const end = start + 3 + len;
    if (end > payload.length) return undefined; // multi-packet sections: not written by ffmpeg for PAT/PMT
    return payload.subarray(start, end);
  }

  private parsePat(payload: Buffer): void {
    const s = this.section(payload);
    if (!s || s[0] !== 0x00) return;
    for (let i = 8; i + 4 <= s.length - 4; i += 4) {
      const program = s.readUInt16BE(i);
      const pid = s.readUInt16BE(i + 2) & 0x1fff;
      if (program !== 0) { this.pmtPid = pid; return; }
    }
  }

  private parsePmt(payload: Buffer): void {
    const s = this.section(payload);
    if (!s || s[0] !== 0x02) return;
    const programInfoLength = s.readUInt16BE(10) & 0x0fff;
    let i = 12 + programInfoLength;
    const end = s.length - 4; // CRC_32
    const found: TsProgramStream[] = [];
    while (i + 5 <= end) {
      const streamType = s[i];
      const pid = s.readUInt16BE(i + 1) & 0x1fff;
      const esInfoLength = s.readUInt16BE(i + 3) & 0x0fff;
      found.push({ pid, streamType, streamIndex: found.length });
      i += 5 + esInfoLength;
    }
    const changed = found.length !== this.streams.size || found.some((f) => {
      const old = this.streams.get(f.pid);
      return !old || old.streamType !== f.streamType;
    });
    if (!changed) return;
    this.streams.clear();
    for (const f of found) this.streams.set(f.pid, f);
    this.onProgram(found);
  }

  private finishPes(pid: number): void {
    const a = this.assemblies.get(pid);
    this.assemblies.delete(pid);
    const stream = this.streams.get(pid);
    if (!a || !stream) return;
    const pes = a.chunks.length === 1 ? a.chunks[0] : Buffer.concat(a.chunks, a.size);
    if (pes.length < 9 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return;
    const flags = pes[7];
    const headerLength = pes[8];
    const dataStart = 9 + headerLength;
    if (dataStart > pes.length) return;
    let pts = -1;
    let dts = -1;
    if (flags & 0x80 && pes.length >= 14) pts = readTimestamp(pes, 9);
    if (flags & 0x40 && pes.length >= 19) dts = readTimestamp(pes, 14);
    if (pts < 0) return; // ffmpeg writes a PTS on every PES it starts; without one there is nothing to time
    if (dts < 0) dts = pts;
    const end = a.expected ? Math.min(a.expected, pes.length) : pes.length;
    this.onPacket({ pid, streamType: stream.streamType, streamIndex: stream.streamIndex, pts, dts, data: pes.subarray(dataStart, end) });
  }
}

/**
 * True when the adaptation field carries stuffing bytes. ffmpeg's muxer stuffs only the last TS
 * packet of a PES, so for a PES of unknown length (video over 64 KiB) this marks its end and the
 * frame goes out at once instead of one frame later when the next PES starts.
 */
function hasStuffing(p: Buffer): boolean {
  const length = p[4];
  if (length === 0) return true; // a lone length byte is one byte of stuffing
  const flags = p[5];
  let used = 1;
  if (flags & 0x10) used += 6; // PCR
  if (flags & 0x08) used += 6; // OPCR
  if (flags & 0x04) used += 1; // splice countdown
  if (flags & 0x02) used += 1 + (used + 1 <= length ? p[5 + used] : 0); // private data
  if (flags & 0x01) used += 1 + (used + 1 <= length ? p[5 + used] : 0); // extension
  return length > used;
}

/** 33-bit PTS/DTS from the 5-byte marker-bit layout (ISO 13818-1 §2.4.3.7). */
export function readTimestamp(b: Buffer, o: number): number {
  return (((b[o] >> 1) & 0x07) * 0x40000000) + (b[o + 1] << 22) + ((b[o + 2] >> 1) << 15) + (b[o + 3] << 7) + (b[o + 4] >> 1);
}
