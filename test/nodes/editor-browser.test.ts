/**
 * The editor in a real browser: Debian's chromium driven by playwright-core against a real Node-RED
 * (child process, temp user directory with this package installed, 127.0.0.1 only). The palette
 * shows the GB28181 nodes, example (1) is listed under Import → Examples, imports and deploys with
 * every node valid, an edit dialog opens with its help, and a screenshot goes to test-output/.
 * Node-RED reaches only loopback: the example's platform and cameras are 127.0.0.1.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page } from 'playwright-core';
import { NodeRedProcess, PROJECT_ROOT } from '../support/node-red-process';
import { deployTabOf, EditorSession, importExample, listedExamples, openEditor } from './editor-session';

const FLOW_TYPES = ['gb28181-device', 'rtsp-source', 'ps-rtp-sender', 'health-monitor'];

describe('editor in chromium', function () {
  this.timeout(90000);
  let session: EditorSession;
  let page: Page;
  let red: NodeRedProcess;
  let browser: Browser;

  before(async () => {
    session = await openEditor('editor');
    ({ page, red, browser } = session);
  });

  after(async () => {
    await session?.close();
  });

  it('shows the GB28181 nodes in their own palette category, the config node registered', async () => {
    for (const t of FLOW_TYPES) {
      assert.equal(await page.locator(`#red-ui-palette-container-GB28181 .red-ui-palette-node[data-palette-type="${t}"]`).count(), 1, `${t} in the GB28181 category`);
    }
    assert.equal(await page.evaluate('!!RED.nodes.getType("wvp-register") && RED.nodes.getType("wvp-register").category'), 'config');
    // Typing in the palette filter leaves only matching nodes.
    await page.locator('#red-ui-palette-search input').pressSequentially('rtsp');
    await page.waitForFunction('document.querySelector(\'.red-ui-palette-node[data-palette-type="ps-rtp-sender"]\').offsetParent === null', undefined, { timeout: 5000 });
    assert.ok(await page.locator('.red-ui-palette-node[data-palette-type="rtsp-source"]').isVisible());
    await page.locator('#red-ui-palette-search input').fill('');
    await page.locator('#red-ui-palette-search input').press('Escape');
  });

  it('lists example (1) under Import → Examples, imports it with every node valid, and deploys', async () => {
    const modules = await page.evaluate('fetch("library/examples/flows/").then((r) => r.json())') as Array<{ d?: unknown } | string>;
    assert.ok(JSON.stringify(modules).includes('node-red-contrib-gb28181'), `examples list: ${JSON.stringify(modules)}`);
    const listed = await listedExamples(page);
    for (const name of ['two-cameras', 'zero-setup-demo', 'h265-substream']) assert.ok(listed.includes(name), `${name} listed: ${listed}`);
    const invalid = await importExample(page, 'two-cameras');
    assert.deepEqual(invalid, [], 'every imported node passes the edit-dialog validation');
    await deployTabOf(page, 'gb28181-device');
    assert.equal(await page.locator('.red-ui-notification-warning, .red-ui-notification-error').count(), 0, 'no warning or error notification');
    const flows = JSON.parse(fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8')) as Array<{ type: string }>;
    assert.ok(flows.some((n) => n.type === 'gb28181-device'), 'deployed flow saved');
  });

  it('moves a password pasted into a camera URL to the credentials: never in flows.json', async () => {
    const id = await page.evaluate('RED.nodes.filterNodes({type: "rtsp-source"})[0].id') as string;
    await page.evaluate(`RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
    const url = page.locator('#node-input-url');
    await url.waitFor({ state: 'visible', timeout: 10000 });
    await url.fill('rtsp://admin:pasted-secret-4@127.0.0.1:8554/h264');
    await page.locator('#node-dialog-ok').click();
    await url.waitFor({ state: 'detached', timeout: 10000 });
    assert.equal(await page.evaluate(`RED.nodes.node(${JSON.stringify(id)}).url`), 'rtsp://127.0.0.1:8554/h264');
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction('document.querySelectorAll(".red-ui-notification").length > 0 && RED.nodes.dirty() === false', undefined, { timeout: 15000 });
    const flowsText = fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8');
    assert.ok(flowsText.includes('rtsp://127.0.0.1:8554/h264'));
    assert.ok(!flowsText.includes('pasted-secret-4'), 'the password is not in flows.json');
    const credFile = path.join(red.userDir, 'flows_cred.json');
    assert.ok(fs.existsSync(credFile), 'credentials were saved');
    assert.ok(!fs.readFileSync(credFile, 'utf8').includes('pasted-secret-4'), 'flows_cred.json is encrypted');
  });

  it('speaks Chinese to a zh-CN browser: palette labels, dialog labels and help from the zh-CN catalogues', async () => {
    const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
    try {
      const zh = await ctx.newPage();
      await zh.goto(red.url);
      await zh.waitForSelector('.red-ui-palette-node[data-palette-type="gb28181-device"]', { timeout: 30000 });
      const label = await zh.locator('.red-ui-palette-node[data-palette-type="gb28181-device"] .red-ui-palette-label').textContent();
      assert.equal(label?.trim(), '国标设备');
      const id = await zh.evaluate('RED.nodes.filterNodes({type: "rtsp-source"})[0].id') as string;
      await zh.evaluate(`RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
      await zh.getByText('通道编码').first().waitFor({ state: 'visible', timeout: 10000 });
      assert.match(await zh.evaluate('RED.nodes.getNodeHelp("rtsp-source")') as string, /一台摄像机/);
      await zh.screenshot({ path: path.join(PROJECT_ROOT, 'test-output', 'editor-zh-CN.png') });
    } finally {
      await ctx.close();
    }
  });

  it('opens the device edit dialog with validation and its help, and writes a screenshot', async () => {
    const id = await page.evaluate('RED.nodes.filterNodes({type: "gb28181-device"})[0].id') as string;
    await page.evaluate(`RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
    const input = page.locator('#node-input-deviceId');
    await input.waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await input.inputValue(), '34020000001180000001');
    // A channel-type code (132) in a device ID shows the hint and marks the field invalid.
    await input.fill('34020000001320000001');
    await page.waitForSelector('#gb28181-device-idhint:visible', { timeout: 5000 });
    await page.locator('#node-dialog-cancel').click();
    const help = await page.evaluate('RED.nodes.getNodeHelp("gb28181-device")') as string;
    assert.match(help, /Device ID/);
    assert.match(help, /registered · 3 ch · 1 live/);
    await page.evaluate(`RED.view.select(${JSON.stringify(id)}); RED.sidebar.help.show("gb28181-device")`);
    await page.getByText('Sender bound').first().waitFor({ state: 'visible', timeout: 10000 });
    const outDir = path.join(PROJECT_ROOT, 'test-output');
    fs.mkdirSync(outDir, { recursive: true });
    const shot = path.join(outDir, 'editor-two-cameras.png');
    await page.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 10000, 'screenshot written');
  });
});
