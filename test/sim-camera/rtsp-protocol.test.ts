/**
 * The simulated camera's RTSP dialogue seen byte by byte from a raw TCP client (RFC 2326), its
 * authentication with real clients, and the keyframe detection the GOP cache relies on.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { rtpOpensKeyframe } from '../../lib/sim/camera/rtp-keyframe';
import { parseAuthParams } from '../../lib/sim/camera/rtsp-auth';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { DEBIAN_FFPROBE, killAllClients, NPM_FFMPEG, NPM_FFPROBE, probe } from './ff-client';

interface Response {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

interface Frame {
  channel: number;
  data: Buffer;
}

/** A minimal RTSP client over one TCP connection that also collects interleaved frames. */
class RawRtspClient {
  private buffer = Buffer.alloc(0);
  private cseq = 0;
  private waiting?: (r: Response) => void;
  readonly frames: Frame[] = [];
  private readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => undefined);
  }

  request(method: string, uri: string, headers: Record<string, string> = {}): Promise<Response> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++this.cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method}`)), 10_000);
      this.waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      if (this.buffer.length && this.buffer[0] === 0x24) {
        if (this.buffer.length < 4) return;
        const len = this.buffer.readUInt16BE(2);
        if (this.buffer.length < 4 + len) return;
        this.frames.push({ channel: this.buffer[1], data: Buffer.from(this.buffer.subarray(4, 4 + len)) });
        this.buffer = this.buffer.subarray(4 + len);
        continue;
      }
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buffer.subarray(0, end).toString().split('\r\n');
      const headers: Record<string, string[]> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        const k = l.slice(0, c).trim().toLowerCase();
        (headers[k] ??= []).push(l.slice(c + 1).trim());
      }
      const len = Number(headers['content-length']?.[0] ?? 0);
      if (this.buffer.length < end + 4 + len) return;
      const body = this.buffer.subarray(end + 4, end + 4 + len).toString();
      this.buffer = this.buffer.subarray(end + 4 + len);
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ status: Number(lines[0].split(' ')[1]), headers, body });
    }
  }
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('SimulatedCamera RTSP dialogue', function () {
  this.timeout(20_000);
  let camera: SimulatedCamera;
  let port: number;
  const clients: RawRtspClient[] = [];
  const open = (): RawRtspClient => {
    const c = new RawRtspClient(port);
    clients.push(c);
    return c;
  };

  before(async () => {
    camera = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, streams: [{ path: '/h264-pcma', video: 'h264', audio: 'pcma' }, { path: '/h265', video: 'h265' }] });
    ({ port } = await camera.start());
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(() => camera.stop());

  it('answers OPTIONS and DESCRIBE with an SDP that has per-track control and parameter sets', async () => {
    const c = open();
    const options = await c.request('OPTIONS', `rtsp://127.0.0.1:${port}/h264-pcma`);
    assert.equal(options.status, 200);
    assert.match(options.headers.public[0], /DESCRIBE.*SETUP.*PLAY.*TEARDOWN.*GET_PARAMETER/);
    const d = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/h264-pcma`, { Accept: 'application/sdp' });
    assert.equal(d.status, 200);
    assert.equal(d.headers['content-type'][0], 'application/sdp');
    assert.equal(d.headers['content-base'][0], `rtsp://127.0.0.1:${port}/h264-pcma/`);
    assert.match(d.body, /m=video 0 RTP\/AVP 96\r\n/);
    assert.match(d.body, /a=fmtp:96 .*sprop-parameter-sets=[A-Za-z0-9+/=]+,/);
    assert.match(d.body, /a=control:trackID=0\r\n/);
    assert.match(d.body, /m=audio 0 RTP\/AVP 8\r\na=rtpmap:8 PCMA\/8000/);
    assert.match(d.body, /a=control:trackID=1\r\n/);
    const h265 = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/h265`);
    assert.match(h265.body, /sprop-vps=.*sprop-sps=.*sprop-pps=/);
  });

  it('plays over TCP-interleaved: SR first, then a keyframe, sequence numbers continuous from RTP-Info', async () => {
    const c = open();
    const base = `rtsp://127.0.0.1:${port}/h264-pcma/`;
    const s1 = await c.request('SETUP', `${base}trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    assert.equal(s1.status, 200);
    assert.equal(s1.headers.transport[0], 'RTP/AVP/TCP;unicast;interleaved=0-1');
    const session = s1.headers.session[0].split(';')[0];
    assert.match(s1.headers.session[0], /;timeout=60$/);
    const s2 = await c.request('SETUP', `${base}trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session });
    assert.equal(s2.status, 200);
    const play = await c.request('PLAY', base, { Session: session, Range: 'npt=0.000-' });
    assert.equal(play.status, 200);
    const info = play.headers['rtp-info'][0];
    const seq0 = Number(/url=[^;]*trackID=0;seq=(\d+)/.exec(info)?.[1]);
    const rtptime0 = Number(/trackID=0;seq=\d+;rtptime=(\d+)/.exec(info)?.[1]);
    const rtptime1 = Number(/trackID=1;seq=\d+;rtptime=(\d+)/.exec(info)?.[1]);
    await new Promise((r) => setTimeout(r, 1500));
    const video = c.frames.filter((f) => f.channel === 0);
    const audio = c.frames.filter((f) => f.channel === 2);
    const firstVideoIndex = c.frames.findIndex((f) => f.channel === 0);
    assert.ok(c.frames.slice(0, firstVideoIndex).some((f) => f.channel === 1 && f.data[1] === 200), 'a sender report precedes the first video packet');
    assert.ok(video.length > 30, `video packets ${video.length}`);
    assert.ok(audio.length > 10, `audio packets ${audio.length}`);
    assert.ok(rtpOpensKeyframe('h264', video[0].data), 'first video packet opens a keyframe');
    video.forEach((f, i) => assert.equal(f.data.readUInt16BE(2), (seq0 + i) & 0xffff));
    assert.equal(video[0].data.readUInt32BE(4), rtptime0, 'RTP-Info rtptime of the video track');
    assert.equal(audio[0].data.readUInt32BE(4), rtptime1, 'RTP-Info rtptime of the audio track');
    const keep = await c.request('GET_PARAMETER', base, { Session: session });
    assert.equal(keep.status, 200);
    const td = await c.request('TEARDOWN', base, { Session: session });
    assert.equal(td.status, 200);
    assert.equal(camera.stats().sessions, 0);
  });

  it('sets up UDP with an even/odd server_port pair and rejects what it does not serve', async () => {
    const c = open();
    const base = `rtsp://127.0.0.1:${port}/h265`;
    const s = await c.request('SETUP', `${base}/trackID=0`, { Transport: 'RTP/AVP;unicast;client_port=50000-50001' });
    assert.equal(s.status, 200);
    const m = /client_port=50000-50001;server_port=(\d+)-(\d+)/.exec(s.headers.transport[0]);
    assert.ok(m, s.headers.transport[0]);
    assert.equal(Number(m[1]) % 2, 0);
    assert.equal(Number(m[2]), Number(m[1]) + 1);
    assert.equal((await c.request('SETUP', `${base}/trackID=0`, { Transport: 'RTP/AVP;multicast' })).status, 461);
    assert.equal((await c.request('PLAY', base, { Session: 'DEADBEEF' })).status, 454);
    assert.equal((await c.request('SETUP', `${base}/trackID=7`, { Transport: 'RTP/AVP/TCP;interleaved=0-1' })).status, 404);
    assert.equal((await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/nothing`)).status, 404);
    assert.equal((await c.request('RECORD', base)).status, 501);
  });
});

describe('SimulatedCamera session timeout', function () {
  this.timeout(15_000);
  it('ends a session whose client stays silent past the announced timeout', async () => {
    const camera = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, sessionTimeoutSec: 1, streams: [{ path: '/h264', video: 'h264' }] });
    const { port } = await camera.start();
    const c = new RawRtspClient(port);
    try {
      const teardowns: string[] = [];
      camera.on('teardown', (p) => teardowns.push(p));
      const s = await c.request('SETUP', `rtsp://127.0.0.1:${port}/h264/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      assert.match(s.headers.session[0], /;timeout=1$/);
      const session = s.headers.session[0].split(';')[0];
      assert.equal((await c.request('PLAY', `rtsp://127.0.0.1:${port}/h264/`, { Session: session })).status, 200);
      assert.equal(camera.stats().sessions, 1);
      await new Promise((r) => setTimeout(r, 2200));
      assert.equal(camera.stats().sessions, 0);
      assert.deepEqual(teardowns, ['/h264']);
      assert.equal((await c.request('PLAY', `rtsp://127.0.0.1:${port}/h264/`, { Session: session })).status, 454);
    } finally {
      c.close();
      await camera.stop();
    }
  });
});

describe('SimulatedCamera without fast start', function () {
  this.timeout(15_000);
  it('starts a new client at the next live keyframe, and RTP-Info names no rtptime', async () => {
    const camera = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, fastStart: false, alwaysOn: true, streams: [{ path: '/h265', video: 'h265', gop: 50 }] });
    const { port } = await camera.start();
    const c = new RawRtspClient(port);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const s = await c.request('SETUP', `rtsp://127.0.0.1:${port}/h265/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      const session = s.headers.session[0].split(';')[0];
      const play = await c.request('PLAY', `rtsp://127.0.0.1:${port}/h265/`, { Session: session });
      assert.doesNotMatch(play.headers['rtp-info'][0], /rtptime/);
      const t0 = Date.now();
      while (!c.frames.some((f) => f.channel === 0) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      const firstAt = Date.now() - t0;
      const first = c.frames.find((f) => f.channel === 0);
      assert.ok(first, 'no video within 5 s');
      assert.ok(rtpOpensKeyframe('h265', first.data));
      // GOP of 2 s, joined 0.3 s after a keyframe: the first packet waits for the next one.
      assert.ok(firstAt > 500, `first video after ${firstAt} ms`);
    } finally {
      c.close();
      await camera.stop();
    }
  });
});

describe('SimulatedCamera start failures', () => {
  it('rejects with SIM_CAMERA_BIND when the port is taken, and can start elsewhere afterwards', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const camera = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, port: taken, streams: [{ path: '/h264', video: 'h264' }] });
    try {
      await assert.rejects(camera.start(), (err: unknown) => (err as { code?: string }).code === 'SIM_CAMERA_BIND');
      assert.deepEqual(camera.encoderPids(), []);
      const other = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, streams: [{ path: '/h264', video: 'h264' }] });
      const { port } = await other.start();
      assert.notEqual(port, taken);
      await other.stop();
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('refuses two streams on one path', () => {
    assert.throws(() => new SimulatedCamera({ streams: [{ path: '/a', video: 'h264' }, { path: 'a/', video: 'h265' }] }), /given twice/);
  });
});

describe('SimulatedCamera authentication', function () {
  this.timeout(20_000);
  let camera: SimulatedCamera;
  let port: number;
  before(async () => {
    camera = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, username: 'admin', password: 'p@ss:word', streams: [{ path: '/h264', video: 'h264' }] });
    ({ port } = await camera.start());
  });
  afterEach(() => killAllClients());
  after(() => camera.stop());

  it('challenges with Digest and Basic, and accepts either', async () => {
    const c = new RawRtspClient(port);
    try {
      const uri = `rtsp://127.0.0.1:${port}/h264`;
      const r = await c.request('DESCRIBE', uri);
      assert.equal(r.status, 401);
      const digest = r.headers['www-authenticate'].find((v) => v.startsWith('Digest '));
      assert.ok(digest);
      assert.ok(r.headers['www-authenticate'].some((v) => v.startsWith('Basic ')));
      const basic = await c.request('DESCRIBE', uri, { Authorization: `Basic ${Buffer.from('admin:p@ss:word').toString('base64')}` });
      assert.equal(basic.status, 200);
      const p = parseAuthParams(digest.slice(7));
      const response = md5(`${md5(`admin:${p.realm}:p@ss:word`)}:${p.nonce}:${md5(`DESCRIBE:${uri}`)}`);
      const ok = await c.request('DESCRIBE', uri, { Authorization: `Digest username="admin", realm="${p.realm}", nonce="${p.nonce}", uri="${uri}", response="${response}"` });
      assert.equal(ok.status, 200);
      const bad = await c.request('DESCRIBE', uri, { Authorization: `Digest username="admin", realm="${p.realm}", nonce="${p.nonce}", uri="${uri}", response="${md5('x')}"` });
      assert.equal(bad.status, 401);
    } finally {
      c.close();
    }
  });

  it('wrong credentials give a 401 that ffprobe reports; right ones decode (npm and Debian ffprobe)', async () => {
    const wrong = await probe(DEBIAN_FFPROBE, `rtsp://admin:nope@127.0.0.1:${port}/h264`, 'tcp');
    assert.notEqual(wrong.run.code, 0);
    assert.match(wrong.run.stderr, /401 Unauthorized/);
    const none = await probe(NPM_FFPROBE, camera.url('/h264'), 'tcp');
    assert.match(none.run.stderr, /401/);
    const right = await probe(NPM_FFPROBE, camera.url('/h264', true), 'udp');
    assert.equal(right.run.code, 0, right.run.stderr);
    assert.equal(right.streams[0].codec, 'h264');
    assert.match(camera.url('/h264', true), /^rtsp:\/\/admin:p%40ss%3Aword@127\.0\.0\.1:\d+\/h264$/);
  });
});

describe('rtpOpensKeyframe', () => {
  const rtp = (payload: number[]): Buffer => Buffer.concat([Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]), Buffer.from(payload)]);
  it('finds H.264 SPS, IDR, STAP-A with SPS and the first FU-A of an IDR only', () => {
    assert.equal(rtpOpensKeyframe('h264', rtp([0x67, 0x42])), true);
    assert.equal(rtpOpensKeyframe('h264', rtp([0x65, 0x88])), true);
    assert.equal(rtpOpensKeyframe('h264', rtp([0x41, 0x9a])), false);
    assert.equal(rtpOpensKeyframe('h264', rtp([0x18, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x67, 0x42])), true);
    assert.equal(rtpOpensKeyframe('h264', rtp([0x7c, 0x85, 0x00])), true);
    assert.equal(rtpOpensKeyframe('h264', rtp([0x7c, 0x05, 0x00])), false);
    assert.equal(rtpOpensKeyframe('h264', rtp([0x7c, 0x81, 0x00])), false);
  });
  it('finds H.265 VPS, IDR, AP with VPS and the first FU of an IRAP only', () => {
    assert.equal(rtpOpensKeyframe('h265', rtp([0x40, 0x01, 0x0c])), true);
    assert.equal(rtpOpensKeyframe('h265', rtp([0x26, 0x01, 0xaf])), true);
    assert.equal(rtpOpensKeyframe('h265', rtp([0x02, 0x01, 0xd0])), false);
    assert.equal(rtpOpensKeyframe('h265', rtp([0x60, 0x01, 0x00, 0x02, 0x40, 0x01])), true);
    assert.equal(rtpOpensKeyframe('h265', rtp([0x62, 0x01, 0x93])), true);
    assert.equal(rtpOpensKeyframe('h265', rtp([0x62, 0x01, 0x13])), false);
    assert.equal(rtpOpensKeyframe('h265', rtp([0x62, 0x01, 0x81])), false);
  });
});
