/**
 * Media benchmarks. Run after compiling: `node build/bench/media-bench.js [--mux-only] [--channels 1,8,32] [--seconds 8]`
 *  1. PS+RTP muxer throughput alone (PsMuxer + RtpPacketizer on 1080p-sized frames), MB/s per core.
 *  2. N concurrent channels of a 1080p25 H.264 stream from GStreamer's RTSP server through
 *     MediaService to UDP receivers on 127.0.0.1: CPU % and RSS of this process and its ffmpeg
 *     children, added latency (last RTP packet of a camera frame into ffmpeg → its PS/RTP packet
 *     received on loopback, p50/p99; and the part after our demuxer alone) and
 *     INVITE (prepare) → first RTP packet with a cold and a warm camera.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AccessUnit } from '../lib/media/access-unit';
import { MediaService } from '../lib/media/media-service';
import { PsMuxer } from '../lib/media/ps-muxer';
import { RtpPacketizer } from '../lib/media/rtp-packetizer';
import { GstCamera, freeTcpPort } from '../test/media/gst-camera';
import { randomPortRange, streamRequest } from '../test/media/media-session-runner';
import { RtpTestReceiver } from '../test/media/rtp-test-receiver';
import { RtspInterleavedTap } from './rtsp-interleaved-tap';

function muxThroughput(seconds: number): { mbPerSec: number; framesPerSec: number; packetsPerSec: number } {
  // 4 Mb/s at 25 fps, GOP 50: a 120 KB keyframe and ~18 KB P-frames.
  const frames: AccessUnit[] = [];
  for (let i = 0; i < 50; i++) {
    const size = i === 0 ? 120_000 : 18_000;
    frames.push({ codec: 'h264', keyframe: i === 0, pts: i * 3600, dts: i * 3600, data: Buffer.alloc(size, i) });
  }
  const audio: AccessUnit = { codec: 'pcma', keyframe: false, pts: 0, dts: 0, data: Buffer.alloc(320, 0xd5) };
  const mux = new PsMuxer({ audio: 'pcma' });
  const rtp = new RtpPacketizer({ ssrc: 100000001 });
  let bytes = 0;
  let count = 0;
  let packets = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let k = 0; k < 50; k++) {
      const au = frames[k];
      const pack = mux.mux(au);
      if (pack) { const f = rtp.packetize(pack, au.dts); packets += f.packets.length; sink ^= f.framed[f.framed.length - 1]; }
      bytes += au.data.length;
      count++;
      if (k % 2 === 0) {
        const p = mux.mux(audio);
        if (p) { const f = rtp.packetize(p, au.dts); packets += f.packets.length; sink ^= f.framed[0]; }
        bytes += audio.data.length;
      }
    }
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  if (sink === 0x1234567) console.log('');
  return { mbPerSec: bytes / secs / 1e6, framesPerSec: count / secs, packetsPerSec: packets / secs };
}

function childStats(): { cpuTicks: number; rssKb: number; count: number } {
  let out = '';
  try { out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }); } catch { return { cpuTicks: 0, rssKb: 0, count: 0 }; }
  let cpuTicks = 0;
  let rssKb = 0;
  let count = 0;
  for (const line of out.split('\n')) {
    const [pid, comm] = line.trim().split(/\s+/);
    if (comm !== 'ffmpeg') continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpuTicks += Number(stat[11]) + Number(stat[12]);
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      rssKb += m ? Number(m[1]) : 0;
      count++;
    } catch { /* exited */ }
  }
  return { cpuTicks, rssKb, count };
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function channels(n: number, seconds: number): Promise<void> {
  const camera = new GstCamera(await freeTcpPort(), 'h264', 'none', [1920, 1080], 25, 4000, 'ball', 'cbr');
  await camera.start();
  // Channel 0 pulls through a tap that notes when each camera frame arrived.
  const tap = new RtspInterleavedTap(camera.port);
  await tap.start();
  const tapUrl = camera.url.replace(`:${camera.port}/`, `:${tap.port}/`);
  const service = new MediaService({
    localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(), keepWarmMs: 60000,
    resolveSource: (channelId) => {
      const url = channelId.endsWith('0000') ? tapUrl : camera.url;
      return { key: `ch-${channelId}`, url, displayUrl: url, rtspTransport: 'tcp' };
    },
  });
  const camLatencies: number[] = [];
  let offset: number | undefined;
  const produced = new Map<number, number>();
  const keyframes = new Set<number>();
  const latencies: number[] = [];
  const firstPacket: number[] = [];
  const receivers: RtpTestReceiver[] = [];
  const callIds: string[] = [];
  try {
    // Cold start: each channel's camera connects on its INVITE.
    await Promise.all(Array.from({ length: n }, async (_v, i) => {
      const rx = new RtpTestReceiver();
      await rx.listenUdp();
      receivers.push(rx);
      const channelId = `3402000000132000${String(i).padStart(4, '0')}`;
      const req = streamRequest('udp', rx.port, { channelId });
      const t0 = Date.now();
      await service.prepare(req, new AbortController().signal);
      service.start(req.callId);
      callIds.push(req.callId);
      const feed = service.feed(`ch-${channelId}`);
      feed?.subscribe({
        onUnit: (au) => {
          if (i !== 0 || au.codec !== 'h264') return;
          produced.set(au.dts % 0x100000000, performance.now());
          if (au.keyframe) keyframes.add(au.dts % 0x100000000);
        },
        onDiscontinuity: () => undefined,
      });
      rx.onPacket = (p) => {
        if (!rx.packets[1]) firstPacket.push(Date.now() - t0);
        if (i === 0 && p.marker) {
          const t = produced.get(p.timestamp);
          const now = performance.now();
          if (t !== undefined) {
            latencies.push(now - t);
            produced.delete(p.timestamp);
            // Camera frame in → RTP out: map our timestamp back to the camera's RTP timestamp.
            // The offset is re-learnt on each keyframe (ffmpeg may shift PTS on RTCP sync): the
            // keyframe that left last is the latest camera keyframe seen (GOP 1 s > latency).
            if (keyframes.has(p.timestamp)) {
              const camKey = [...tap.frames].reverse().find((f) => f.keyframe && f.at <= t);
              if (camKey) offset = (p.timestamp - camKey.rtpTimestamp) >>> 0;
            }
            if (offset !== undefined) {
              const camTs = (p.timestamp - offset) >>> 0;
              const cam = tap.frames.find((f) => f.rtpTimestamp === camTs);
              if (cam) camLatencies.push(now - cam.at);
            }
          }
        }
        if (rx.packets.length > 64) rx.packets.splice(0, rx.packets.length - 2);
      };
    }));
    await new Promise((r) => setTimeout(r, 2000));
    const c0 = process.cpuUsage();
    const k0 = childStats();
    const t0 = performance.now();
    latencies.length = 0;
    camLatencies.length = 0;
    let bytes = 0;
    const byteCounter = receivers.map(() => 0);
    receivers.forEach((rx, i) => { const prev = rx.onPacket; rx.onPacket = (p) => { byteCounter[i] += p.size; prev?.(p); }; });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    const k1 = childStats();
    bytes = byteCounter.reduce((a, b) => a + b, 0);
    const hz = 100;
    const gwCpu = ((c1.user + c1.system) / 1e6 / elapsed) * 100;
    const ffCpu = ((k1.cpuTicks - k0.cpuTicks) / hz / elapsed) * 100;
    // Warm start: a second INVITE on channel 0 while its camera runs.
    const rx = new RtpTestReceiver();
    await rx.listenUdp();
    const req = streamRequest('udp', rx.port, { channelId: '34020000001320000000' });
    const w0 = Date.now();
    await service.prepare(req, new AbortController().signal);
    service.start(req.callId);
    await rx.waitFor(() => rx.packets.length > 0, 5000, 'warm first packet');
    const warmMs = rx.packets[0].at - w0;
    service.stop(req.callId, 'bench');
    await rx.close();
    console.log(`${String(n).padStart(2)} channel(s): gateway CPU ${gwCpu.toFixed(1)} %, RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB; ` +
      `ffmpeg ×${k1.count} CPU ${ffCpu.toFixed(1)} %, RSS ${(k1.rssKb / 1024).toFixed(0)} MiB; ` +
      `RTP out ${((bytes * 8) / elapsed / 1e6 / n).toFixed(2)} Mb/s per channel; ` +
      `latency camera frame in→RTP out p50 ${percentile(camLatencies, 50).toFixed(1)} ms p99 ${percentile(camLatencies, 99).toFixed(1)} ms (${camLatencies.length} frames), ` +
      `of which demux→RTP p50 ${percentile(latencies, 50).toFixed(2)} ms p99 ${percentile(latencies, 99).toFixed(2)} ms; ` +
      `INVITE→first RTP cold p50 ${percentile(firstPacket, 50)} ms (max ${Math.max(...firstPacket)}), warm ${warmMs} ms`);
  } finally {
    for (const id of callIds) service.stop(id, 'bench done');
    await service.close();
    for (const rx of receivers) await rx.close();
    await tap.close();
    await camera.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = Number(args[args.indexOf('--seconds') + 1]) || 8;
  const mux = muxThroughput(3);
  console.log(`PS+RTP muxer alone: ${mux.mbPerSec.toFixed(0)} MB/s (${mux.framesPerSec.toFixed(0)} frames/s, ${(mux.packetsPerSec / 1e3).toFixed(0)} k RTP packets/s) on one core`);
  if (args.includes('--mux-only')) return;
  const list = (args.includes('--channels') ? args[args.indexOf('--channels') + 1] : '1,8,32').split(',').map(Number);
  console.log(`source: GStreamer RTSP 1920x1080 25 fps H.264 (x264 CBR 4000 kb/s with filler data, GOP 1 s), ${path.basename(process.execPath)} ${process.version}`);
  for (const n of list) await channels(n, seconds);
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
