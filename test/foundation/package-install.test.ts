import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeRedProcess, PROJECT_ROOT, startNodeRed } from '../support/node-red-process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm package', function () {
  this.timeout(240_000);
  let work: string;
  let red: NodeRedProcess | undefined;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-pack-'));
  });
  after(async () => {
    await red?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('packs, installs from the tarball into a Node-RED user directory and shows its nodes there', async () => {
    // --ignore-scripts: the build/ folder this suite runs from is already compiled; prepack would rebuild it under our feet.
    const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: PROJECT_ROOT, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tgz = path.join(work, packed[0].filename);
    const files = packed[0].files.map((f) => f.path);
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> }; bin: Record<string, string> };
    for (const nodeFile of Object.values(pkg['node-red'].nodes)) {
      assert.ok(files.includes(nodeFile), `${nodeFile} is in the tarball`);
      assert.ok(files.includes(nodeFile.replace(/\.js$/, '.html')), `${nodeFile}'s .html sits beside it`);
    }
    assert.ok(files.includes('bin/gb28181-gateway.js'));
    assert.ok(files.includes('build/lib/cli/gateway-cli.js'));
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('build/test/')), 'tests are not shipped');

    const userDir = path.join(work, 'userdir');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync(npm, ['install', tgz, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: userDir, encoding: 'utf8', timeout: 200_000 });
    const installed = path.join(userDir, 'node_modules', 'node-red-contrib-gb28181');
    assert.ok(fs.existsSync(path.join(installed, 'package.json')));

    const cli = execFileSync(process.execPath, [path.join(installed, 'bin', 'gb28181-gateway.js'), '--help'], { encoding: 'utf8' });
    assert.match(cli, /--config <file.json>/);

    red = await startNodeRed(userDir);
    const res = await fetch(`${red.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === 'node-red-contrib-gb28181');
    const types = ours.flatMap((s) => s.types);
    for (const s of ours) assert.equal(s.err, undefined, `node set ${JSON.stringify(s)} loaded without error`);
    assert.deepEqual(types.sort(), Object.keys(pkg['node-red'].nodes).sort(), `nodes listed by Node-RED: ${types.join(', ')}\n${red.output()}`);
  });
});
