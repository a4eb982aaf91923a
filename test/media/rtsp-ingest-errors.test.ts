/**
 * ffmpeg's failures become typed errors a person can act on, with both ffmpeg builds (Debian 5.1
 * and the npm-shipped 2018 build), and credentials never show. A scripted RTSP responder stands
 * in for cameras that refuse (401), lack the path (404) or never answer.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { IngestError, classifyFfmpegFailure } from '../../lib/media/ingest-error';
import { locateFfTool } from '../../lib/media/ffmpeg-path';
import { MediaService } from '../../lib/media/media-service';
import { RtspIngest } from '../../lib/media/rtsp-ingest';
import { GatewayError } from '../../lib/errors';
import { LogContext, Logger } from '../../lib/logger';
import { freeTcpPort } from './gst-camera';
import { randomPortRange, streamRequest } from './media-session-runner';
import { NPM_FFMPEG } from './ps-capture-check';

type Reply = 'unauthorized' | 'not-found' | 'silent';

/** Answers OPTIONS with 200 and DESCRIBE with the scripted reply (RFC 2326 §10). */
async function rtspResponder(reply: Reply): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, end);
        buf = buf.slice(end + 4);
        if (reply === 'silent') continue;
        const cseq = /CSeq:\s*(\d+)/i.exec(req)?.[1] ?? '1';
        if (req.startsWith('OPTIONS')) sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n`);
        else if (reply === 'unauthorized') sock.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n`);
        else sock.write(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq}\r\n\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

function recordingLogger(lines: string[]): Logger {
  const rec = (m: string, c?: LogContext): void => { lines.push(`${m} ${JSON.stringify(c ?? {})}`); };
  return { debug: rec, info: rec, warn: rec, error: rec };
}

function runIngest(url: string, ffmpegPath: string, lines: string[]): Promise<IngestError | undefined> {
  const ingest = new RtspIngest({ url, ffmpeg: locateFfTool('ffmpeg', { configuredPath: ffmpegPath }), rtspTransport: 'tcp', socketTimeoutMs: 1500, logger: recordingLogger(lines) });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { ingest.stop(); resolve(undefined); }, 15000);
    ingest.once('exit', (err) => { clearTimeout(timer); resolve(err); });
    ingest.start();
  });
}

describe('RTSP ingest errors (real ffmpeg, scripted RTSP peers on 127.0.0.1)', function () {
  this.timeout(40000);
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => { while (closers.length) await (closers.pop() as () => Promise<void>)(); });

  for (const [label, bin] of [['Debian ffmpeg 5.1', '/usr/bin/ffmpeg'], ['npm ffmpeg (2018)', NPM_FFMPEG]] as const) {
    describe(label, () => {
      const cases: Array<[Reply | 'refused', string]> = [['unauthorized', 'RTSP_UNAUTHORIZED'], ['not-found', 'RTSP_NOT_FOUND'], ['silent', 'RTSP_TIMEOUT'], ['refused', 'RTSP_REFUSED']];
      for (const [reply, code] of cases) {
        it(`${reply} → ${code}, password never shown`, async () => {
          let port: number;
          if (reply === 'refused') port = await freeTcpPort();
          else { const r = await rtspResponder(reply); closers.push(r.close); port = r.port; }
          const lines: string[] = [];
          const err = await runIngest(`rtsp://admin:s3cr3tPw@127.0.0.1:${port}/live`, bin, lines);
          assert.ok(err instanceof IngestError, 'ffmpeg exited with an error');
          assert.equal(err.code, code, err.message);
          const everything = [err.message, JSON.stringify(err.context), ...lines].join('\n');
          assert.ok(!everything.includes('s3cr3tPw'), 'password leaked');
          assert.ok(everything.includes('admin:***@') || !everything.includes('admin:'), 'URL masked');
        });
      }
    });
  }

  it('two ingests started in the same tick with different ffmpeg builds each run their own binary', async () => {
    const port = await freeTcpPort();
    const url = `rtsp://127.0.0.1:${port}/live`;
    const [old, current] = await Promise.all([runIngest(url, NPM_FFMPEG, []), runIngest(url, '/usr/bin/ffmpeg', [])]);
    // A swapped binary would get the other build's timeout option and fail differently.
    assert.equal(old?.code, 'RTSP_REFUSED', old?.message);
    assert.equal(current?.code, 'RTSP_REFUSED', current?.message);
  });

  it('classifies codec problems from ffmpeg text', () => {
    const err = classifyFfmpegFailure(['[rtsp @ 0x1] Could not find codec parameters for stream 0 (Video: none): unknown codec'], { key: 'c' });
    assert.equal(err.code, 'RTSP_UNSUPPORTED_CODEC');
    assert.match(err.message, /transcod/);
    assert.equal(classifyFfmpegFailure(['something odd'], {}).code, 'RTSP_FAILED');
    assert.equal(classifyFfmpegFailure(['Error splitting the argument list: Option not found'], {}).code, 'RTSP_FAILED');
  });

  it('MediaService.prepare answers with SIP status hints: 404 unknown channel, 488 playback / bad y=, 480 camera down', async () => {
    const port = await freeTcpPort();
    const service = new MediaService({
      localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(),
      resolveSource: (channelId) => (channelId === '34020000001320000011' ? { key: 'down', url: `rtsp://u:pw@127.0.0.1:${port}/x`, displayUrl: `rtsp://u:***@127.0.0.1:${port}/x`, rtspTransport: 'tcp' } : undefined),
    });
    closers.push(() => service.close());
    const signal = new AbortController().signal;
    const status = async (p: Promise<unknown>): Promise<unknown> => {
      try { await p; return 'resolved'; } catch (e) { assert.ok(e instanceof GatewayError); return e.context.sipStatus; }
    };
    assert.equal(await status(service.prepare(streamRequest('udp', 9, { channelId: '34020000001320000099' }), signal)), 404);
    assert.equal(await status(service.prepare(streamRequest('udp', 9, { sessionType: 'Playback' }), signal)), 488);
    assert.equal(await status(service.prepare(streamRequest('udp', 9, { ssrc: 'abc' }), signal)), 488);
    assert.equal(await status(service.prepare(streamRequest('udp', 9), signal)), 480);
    assert.equal(service.sessionStats().length, 0);
    const aborted = new AbortController();
    aborted.abort();
    assert.equal(await status(service.prepare(streamRequest('udp', 9), aborted.signal)), 480, 'camera already known offline');
  });
});
