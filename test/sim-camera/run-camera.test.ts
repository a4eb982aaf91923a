/**
 * The manual run-camera script as a fresh machine would run it: no ffmpeg on PATH, no FFMPEG_PATH,
 * so the camera must find and use the ffmpeg shipped in @ffmpeg-installer/ffmpeg.
 */
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEBIAN_FFPROBE, killAllClients, probe } from './ff-client';

const SCRIPT = path.resolve(__dirname, '..', '..', 'lib', 'sim', 'camera', 'run-camera.js');

/** Child pids of `pid`, read from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // process gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('run-camera script on a machine without system ffmpeg', function () {
  this.timeout(20_000);
  let child: ChildProcess | undefined;

  afterEach(() => {
    killAllClients();
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('prints its URLs, serves them with the npm-shipped ffmpeg and exits cleanly on SIGTERM', async () => {
    const script = SCRIPT;
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

  it('leaves no orphan encoder when the camera process is killed outright', async function () {
    if (process.platform !== 'linux') this.skip();
    const proc = spawn(process.execPath, [SCRIPT, '0', '--always-on'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('camera did not start')), 15_000);
      proc.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('/h265-pcma')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const encoders = childrenOf(proc.pid as number);
    assert.equal(encoders.length, 5, 'one encoder per default stream, always on');
    proc.kill('SIGKILL');
    const t0 = Date.now();
    while (encoders.some(alive) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(encoders.filter(alive), [], 'encoders outlived their camera');
  });
});
