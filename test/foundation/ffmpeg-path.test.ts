import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FfmpegNotFoundError, forgetLocatedFfTools, locateFfTool, rtspTimeoutOption } from '../../lib/media/ffmpeg-path';
import { Logger } from '../../lib/logger';

function recordingLogger(lines: string[]): Logger {
  const push = (m: string) => lines.push(m);
  return { debug: push, info: push, warn: push, error: push };
}

describe('ffmpeg locator', () => {
  it('finds a real ffmpeg and ffprobe, reports where and which version', () => {
    const lines: string[] = [];
    forgetLocatedFfTools();
    for (const tool of ['ffmpeg', 'ffprobe'] as const) {
      const bin = locateFfTool(tool, { logger: recordingLogger(lines), env: {} , configuredPath: undefined });
      assert.ok(fs.existsSync(bin.path), bin.path);
      assert.match(bin.version, /\S/);
      assert.ok(['path', 'npm-package'].includes(bin.source));
    }
    assert.ok(lines.some((l) => /^using ffmpeg \S+ from /.test(l)), lines.join('\n'));
  });

  it('prefers the configured path, then FFMPEG_PATH', () => {
    const npmBin = locateFfTool('ffmpeg', { skipPath: true, env: {} });
    assert.equal(npmBin.source, 'npm-package', 'the npm-shipped binary is the last resort and it runs');
    const configured = locateFfTool('ffmpeg', { configuredPath: npmBin.path, env: {} });
    assert.equal(configured.source, 'config');
    assert.equal(configured.path, npmBin.path);
    const fromEnv = locateFfTool('ffmpeg', { env: { FFMPEG_PATH: npmBin.path } });
    assert.equal(fromEnv.source, 'env');
  });

  it('skips a candidate that does not run and says so when nothing runs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ffloc-'));
    const fake = path.join(dir, 'ffmpeg');
    fs.writeFileSync(fake, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    try {
      const bin = locateFfTool('ffmpeg', { configuredPath: fake, env: {} });
      assert.notEqual(bin.path, fake);
      const oldPath = process.env.PATH;
      process.env.PATH = dir;
      try {
        assert.throws(() => locateFfTool('ffmpeg', { configuredPath: '/nonexistent/ffmpeg', env: { FFMPEG_PATH: '/also/missing' }, npmPackagePath: () => '/no/npm/ffmpeg' }), (e: unknown) => {
          assert.ok(e instanceof FfmpegNotFoundError);
          assert.match(e.message, /configured path \/nonexistent\/ffmpeg \(does not run\)/);
          assert.match(e.message, /FFMPEG_PATH=\/also\/missing \(does not run\)/);
          assert.match(e.message, /PATH \(.*\) \(does not run\)/);
          assert.match(e.message, /npm package \(\/no\/npm\/ffmpeg\) \(does not run\)/);
          assert.match(e.message, /FFMPEG_PATH/);
          return true;
        });
      } finally {
        process.env.PATH = oldPath;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks the RTSP timeout option by version', () => {
    assert.equal(rtspTimeoutOption({ tool: 'ffmpeg', path: 'x', source: 'path', version: '5.1.6', release: [5, 1] }), '-timeout');
    assert.equal(rtspTimeoutOption({ tool: 'ffmpeg', path: 'x', source: 'path', version: '4.4.2', release: [4, 4] }), '-stimeout');
    assert.equal(rtspTimeoutOption({ tool: 'ffmpeg', path: 'x', source: 'npm-package', version: 'N-47683-g0e8eb07980-static' }), '-stimeout');
  });
});

