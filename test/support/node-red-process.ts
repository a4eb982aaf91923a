/**
 * Runs a real Node-RED (the one in node_modules) in a child process with its own user directory,
 * bound to 127.0.0.1, for tests that need the full runtime or the editor.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from './free-port';

export interface NodeRedProcess {
  port: number;
  url: string;
  userDir: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export function writeSettings(userDir: string, port: number, flowFile = 'flows.json'): string {
  const file = path.join(userDir, 'settings.js');
  fs.writeFileSync(file, `module.exports = {
  uiHost: '127.0.0.1', uiPort: ${port}, userDir: ${JSON.stringify(userDir)}, flowFile: ${JSON.stringify(flowFile)},
  credentialSecret: 'test-secret', diagnostics: { enabled: false }, telemetry: { enabled: false },
  editorTheme: { tours: false, projects: { enabled: false } }, externalModules: { palette: { allowInstall: false } },
  logging: { console: { level: 'info' } },
};\n`);
  return file;
}

export async function startNodeRed(userDir: string, opts: { timeoutMs?: number } = {}): Promise<NodeRedProcess> {
  const port = await freePort();
  const settings = writeSettings(userDir, port);
  const redJs = require.resolve('node-red/red.js', { paths: [PROJECT_ROOT] });
  const child = spawn(process.execPath, [redJs, '-s', settings, '-u', userDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${out}`);
    try {
      const res = await fetch(`${url}/settings`);
      if (res.ok && /Started flows|Server now running/.test(out)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not start within the bound:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return { port, url, userDir, child, output: () => out, stop };
}
