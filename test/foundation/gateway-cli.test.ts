import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../support/node-red-process';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gb28181-gateway.js');

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('gb28181-gateway command', () => {
  let dir: string;
  const write = (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return file;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-cli-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('validates the seed file as is', () => {
    const file = write('seed.json', { rtsp_sources: [{ url: 'rtsp://admin:password@192.168.1.100:554/stream1', name: 'Front Door Camera', device_id: '34020000001320000001' }], wvp_server: { host: '192.168.1.200', port: 5060 } });
    const r = run(['--config', file, '--check']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /configuration valid \(seed shape\): device 34020000001110000001, platform 34020000002000000001@192\.168\.1\.200:5060\/udp, 1 camera/);
    assert.ok(!r.out.includes('password') && !r.err.includes('password@'), 'no secret printed');
  });

  it('names every problem of a bad file and exits 1', () => {
    const file = write('bad.json', { platform: { port: 'x' }, sources: [{ name: 'a' }], colour: 'red' });
    const r = run(['--config', file, '--check']);
    assert.equal(r.code, 1);
    for (const key of ['colour: unknown key', 'platform.host: missing', 'platform.port: must be', 'sources[0].url: missing']) assert.ok(r.err.includes(key), `${key} in:\n${r.err}`);
  });

  it('prints the legacy file in the project shape with the ignored keys named in one warning', () => {
    const file = write('legacy.json', { sip: { device_id: '81000000465001000001', password: 'admin123', server: '127.0.0.1', port: 5060 }, srtp: { key: '31' }, pipeline: { width: 640 }, rtsp_sources: ['rtsp://u:p@127.0.0.1/x'] });
    const r = run(['--config', file, '--print-config']);
    assert.equal(r.code, 0, r.err);
    const printed = JSON.parse(r.out) as { device: { id: string }; platform: { password: string }; sources: Array<{ password: string; url: string }> };
    assert.equal(printed.device.id, '81000000465001000001');
    assert.equal(printed.platform.password, '***');
    assert.equal(printed.sources[0].url, 'rtsp://127.0.0.1/x');
    const warnings = r.err.split('\n').filter((l) => l.startsWith('warning:'));
    assert.equal(warnings.length, 1, r.err);
    assert.match(warnings[0], /srtp, pipeline/);
  });

  it('explains usage errors', () => {
    assert.equal(run([]).code, 2);
    assert.match(run(['--nope']).err, /Unknown option/);
    const missing = run(['--config', path.join(dir, 'absent.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read .*ENOENT/);
    assert.equal(run(['--config', write('x.json', '{'), '--check']).code, 1);
  });
});
