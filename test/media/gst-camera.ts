/** Starts test/fixtures/gst-rtsp-server.py (GStreamer's RTSP server, an independent implementation). */
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

export type GstVideo = 'h264' | 'h265';
export type GstAudio = 'none' | 'pcma' | 'aac';

export async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export class GstCamera {
  private proc: ChildProcess | undefined;
  url = '';

  constructor(readonly port: number, readonly video: GstVideo, readonly audio: GstAudio, readonly size: [number, number] = [320, 240], readonly fps = 25, readonly kbps = 1000, readonly pattern = 'ball', readonly rate: 'abr' | 'cbr' = 'abr') {}

  static async start(video: GstVideo, audio: GstAudio, port?: number): Promise<GstCamera> {
    const cam = new GstCamera(port ?? (await freeTcpPort()), video, audio);
    await cam.start();
    return cam;
  }

  async start(): Promise<void> {
    const script = path.resolve(__dirname, '../../../test/fixtures/gst-rtsp-server.py');
    const proc = spawn('/usr/bin/python3', [script, String(this.port), this.video, this.audio, String(this.size[0]), String(this.size[1]), String(this.fps), String(this.kbps), this.pattern, this.rate], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gst-rtsp-server did not start: ${err}`)), 10000);
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /READY (\S+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`gst-rtsp-server exited ${code}: ${err}`)); });
    });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }
}
