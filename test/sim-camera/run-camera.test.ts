/**
 * The manual run-camera script as a fresh machine would run it: no ffmpeg on PATH, no FFMPEG_PATH,
 * so the camera must find and use the ffmpeg shipped in @ffmpeg-installer/ffmpeg.
 */
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { DEBIAN_FFPROBE, killAllClients, probe } from './ff-client';

describe('run-camera script on a machine without system ffmpeg', function () {
  this.timeout(20_000);
  let child: ChildProcess | undefined;

  afterEach(() => {
    killAllClients();
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('prints its URLs, serves them with the npm-shipped ffmpeg and exits cleanly on SIGTERM', async () => {
    const script = path.resolve(__dirname, '..', '..', 'lib', 'sim', 'camera', 'run-camera.js');
    // Node itself is started by absolute path; PATH holds no ffmpeg at all (here node and ffmpeg share /usr/bin).
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: path.join(path.dirname(script), 'no-such-dir') };
    delete env.FFMPEG_PATH;
    const proc = spawn(process.execPath, [script, '0', '--user', 'admin', '--password', 'secret'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const urls = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URLs printed; stderr: ${stderr}`)), 10_000);
      proc.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        const lines = stdout.split('\n').filter((l) => l.startsWith('rtsp://'));
        if (lines.length >= 5) {
          clearTimeout(timer);
          resolve(lines);
        }
      });
    });
    assert.match(stderr, /using ffmpeg .* from npm package/);
    assert.ok(urls.every((u) => /^rtsp:\/\/admin:secret@127\.0\.0\.1:\d+\/h26[45]/.test(u)), urls.join(' '));
    const pcma = urls.find((u) => u.endsWith('/h265-pcma')) as string;
    const { streams, run } = await probe(DEBIAN_FFPROBE, pcma, 'tcp');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(streams.map((s) => s.codec), ['hevc', 'pcm_alaw']);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
