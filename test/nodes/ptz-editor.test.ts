/**
 * The PTZ parts of the editor in a real browser (Debian's chromium, playwright-core, a real Node-RED
 * on 127.0.0.1): examples/ptz-alarm.json is listed, imports with every node valid and deploys; the
 * rtsp-source dialog shows its ONVIF fields only when ONVIF is on, proposes the RTSP host, keeps the
 * ONVIF password out of flows.json; the help names the new message fields.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { NodeRedProcess, PROJECT_ROOT, startNodeRed } from '../support/node-red-process';
import { copyNodeAssets } from './node-test-support';

const CHROMIUM = '/usr/bin/chromium';

/** This package installed into a fresh user directory (as editor-browser.test.ts stages it). */
function prepareUserDir(root: string): string {
  const pkgDir = path.join(root, 'package');
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(pkgDir, 'package.json'));
  fs.symlinkSync(path.resolve(__dirname, '..', '..'), path.join(pkgDir, 'build'), 'dir');
  for (const d of ['examples', 'icons', 'node_modules']) fs.symlinkSync(path.join(PROJECT_ROOT, d), path.join(pkgDir, d), 'dir');
  const userDir = path.join(root, 'userdir');
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'gb28181-ptz-editor-test', private: true, dependencies: { 'node-red-contrib-gb28181': 'file:../package' } }, null, 2));
  fs.symlinkSync(pkgDir, path.join(userDir, 'node_modules', 'node-red-contrib-gb28181'), 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), '[]');
  return userDir;
}

describe('editor in chromium: PTZ and alarms', function () {
  this.timeout(90000);
  let tmp: string;
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    copyNodeAssets();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-ptz-editor-'));
    red = await startNodeRed(prepareUserDir(tmp));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.goto(red.url);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="gb28181-device"]', { timeout: 30000 });
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists examples/ptz-alarm.json, imports it with every node valid (inject nodes included), and deploys', async () => {
    const listed = JSON.stringify(await page.evaluate('fetch("library/examples/flows/node-red-contrib-gb28181").then((r) => r.json())'));
    assert.ok(listed.includes('ptz-alarm'), listed);
    const invalid = await page.evaluate(`fetch("library/examples/flows/node-red-contrib-gb28181/ptz-alarm").then((r) => r.json()).then((flow) => {
      RED.view.importNodes(flow);
      const bad = [];
      RED.nodes.eachNode((n) => { if (!n.valid) bad.push(n.type + ' ' + n.id); });
      RED.nodes.eachConfig((n) => { if (n.valid === false) bad.push(n.type + ' ' + n.id); });
      return bad;
    })`) as string[];
    assert.deepEqual(invalid, []);
    assert.equal(await page.evaluate('RED.nodes.filterNodes({type: "inject"}).length'), 2);
    const tab = await page.evaluate('RED.nodes.filterNodes({type: "gb28181-device"}).map((n) => n.z)[0]') as string;
    await page.evaluate(`RED.workspaces.show(${JSON.stringify(tab)})`);
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")', { timeout: 15000 });
    assert.equal(await page.locator('.red-ui-notification-warning, .red-ui-notification-error').count(), 0);
  });

  it('rtsp-source dialog: ONVIF fields follow the checkbox, the RTSP host is proposed, the ONVIF password stays out of flows.json', async () => {
    const id = await page.evaluate('RED.nodes.filterNodes({type: "rtsp-source"})[0].id') as string;
    await page.evaluate(`RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
    const enabled = page.locator('#node-input-onvifEnabled');
    await enabled.waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await enabled.isChecked(), true);
    assert.equal(await page.locator('#node-input-onvifHost').getAttribute('placeholder'), '127.0.0.1');
    await page.locator('#node-input-url').fill('rtsp://10.0.0.7:554/live');
    assert.equal(await page.locator('#node-input-onvifHost').getAttribute('placeholder'), '10.0.0.7');
    await enabled.uncheck();
    await page.locator('#rtsp-source-onvif').waitFor({ state: 'hidden', timeout: 5000 });
    await enabled.check();
    await page.locator('#rtsp-source-onvif').waitFor({ state: 'visible', timeout: 5000 });
    await page.locator('#node-input-onvifUsername').fill('onvif-op');
    await page.locator('#node-input-onvifPassword').fill('onvif-secret-6');
    await page.locator('#node-input-stopAfter').fill('50');
    await page.locator('#node-input-stopAfter').dispatchEvent('change');
    await page.waitForSelector('#node-input-stopAfter.input-error', { timeout: 3000 }).catch(() => undefined);
    assert.equal(await page.locator('#node-input-stopAfter.input-error').count(), 1, 'stop-after below 100 ms is marked');
    await page.locator('#node-input-stopAfter').fill('1500');
    await page.locator('#node-dialog-ok').click();
    await enabled.waitFor({ state: 'detached', timeout: 10000 });
    assert.equal(await page.evaluate(`RED.nodes.node(${JSON.stringify(id)}).stopAfter`), '1500');
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction('RED.nodes.dirty() === false', undefined, { timeout: 15000 });
    const flowsText = fs.readFileSync(path.join(red!.userDir, 'flows.json'), 'utf8');
    assert.ok(flowsText.includes('"stopAfter": "1500"') || flowsText.includes('"stopAfter":"1500"'), 'the setting is saved');
    assert.ok(!flowsText.includes('onvif-secret-6') && !flowsText.includes('onvif-op'), 'ONVIF login only in the credentials');
  });

  it('help: rtsp-source names the control input and ONVIF settings, gb28181-device the alarm fields and events', async () => {
    const src = await page.evaluate('RED.nodes.getNodeHelp("rtsp-source")') as string;
    for (const s of ['"control"', 'payload.command', 'ONVIF address', 'Stop a move after', '· PTZ']) assert.ok(src.includes(s), `rtsp-source help mentions ${s}`);
    const dev = await page.evaluate('RED.nodes.getNodeHelp("gb28181-device")') as string;
    for (const s of ['"alarm"', 'payload.priority', 'payload.method', 'payload.time', 'alarm-reset', 'guard']) assert.ok(dev.includes(s), `gb28181-device help mentions ${s}`);
  });
});
