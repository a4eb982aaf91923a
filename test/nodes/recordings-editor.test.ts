/**
 * The recording settings in the editor (Debian's chromium, playwright-core, a real Node-RED in a
 * child process on 127.0.0.1 with this package installed in a temp user directory):
 * examples/recordings.json is listed, imports with every node valid and deploys; the rtsp-source
 * dialog shows the recordings folder, pattern, recorder mode, segment length and retention, hides
 * the recorder fields while it is off, rejects a bad segment length; help and zh-CN labels exist.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page } from 'playwright-core';
import { NodeRedProcess, PROJECT_ROOT } from '../support/node-red-process';
import { deployTabOf, EditorSession, importExample, listedExamples, openEditor } from './editor-session';

describe('recording settings in the editor (chromium)', function () {
  this.timeout(90000);
  let session: EditorSession;
  let page: Page;
  let red: NodeRedProcess;
  let browser: Browser;

  before(async () => {
    session = await openEditor('rec-editor', { viewport: { width: 1600, height: 1000 }, waitForType: 'rtsp-source' });
    ({ page, red, browser } = session);
  });

  after(async () => {
    await session?.close();
  });

  it('lists examples/recordings, imports it with every node valid, and deploys', async () => {
    const listed = await listedExamples(page);
    assert.ok(listed.includes('recordings'), `recordings listed: ${listed}`);
    const invalid = await importExample(page, 'recordings');
    assert.deepEqual(invalid, [], 'every imported node passes the edit-dialog validation');
    await deployTabOf(page, 'rtsp-source');
    const flows = JSON.parse(fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
    const source = flows.find((n) => n.type === 'rtsp-source');
    assert.equal(source?.recordDirs, 'recordings/34020000001320000001');
    assert.equal(source?.recordMode, 'on-command');
  });

  it('shows the recording fields, hides the recorder ones while it is off, rejects a bad segment length, and has help', async () => {
    const id = await page.evaluate('RED.nodes.filterNodes({type: "rtsp-source"})[0].id') as string;
    await page.evaluate(`RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
    const dirs = page.locator('#node-input-recordDirs');
    await dirs.waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await dirs.inputValue(), 'recordings/34020000001320000001');
    assert.equal(await page.locator('#node-input-recordPattern').inputValue(), '{YYYY-MM-DD}/{HH-mm-ss}');
    assert.equal(await page.locator('#node-input-recordNameMarks').inputValue(), 'start');
    assert.equal(await page.locator('#node-input-recordMode').inputValue(), 'on-command');
    await page.locator('#node-input-recordSegmentMin').waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.locator('#node-input-recordMaxAgeDays').inputValue(), '30');
    await page.locator('#node-input-recordSegmentMin').fill('0');
    await page.waitForSelector('#node-input-recordSegmentMin.input-error', { timeout: 5000 });
    await page.locator('#node-input-recordMode').selectOption('off');
    await page.locator('#rtsp-source-recorder').waitFor({ state: 'hidden', timeout: 5000 });
    await page.locator('#node-input-recordMode').selectOption('continuous');
    await page.locator('#rtsp-source-recorder').waitFor({ state: 'visible', timeout: 5000 });
    const outDir = path.join(PROJECT_ROOT, 'test-output');
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'editor-recordings.png') });
    await page.locator('#node-dialog-cancel').click();
    await dirs.waitFor({ state: 'detached', timeout: 10000 });
    const help = await page.evaluate('RED.nodes.getNodeHelp("rtsp-source")') as string;
    for (const words of ['Recordings folders', 'File names', 'Recorder', 'Segment length', 'Keep at most', '· recording']) assert.ok(help.includes(words), `help mentions ${words}`);
  });

  it('labels the recording fields in Chinese for a zh-CN browser', async () => {
    const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 1000 } });
    try {
      const zh = await ctx.newPage();
      await zh.goto(red.url);
      await zh.waitForSelector('.red-ui-palette-node[data-palette-type="rtsp-source"]', { timeout: 30000 });
      const id = await zh.evaluate('RED.nodes.filterNodes({type: "rtsp-source"})[0].id') as string;
      await zh.evaluate(`RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
      await zh.getByText('录像目录').first().waitFor({ state: 'visible', timeout: 10000 });
      assert.equal((await zh.locator('#node-input-recordMode option[value="continuous"]').textContent())?.trim(), '持续录像');
      assert.match(await zh.evaluate('RED.nodes.getNodeHelp("rtsp-source")') as string, /录像目录/);
    } finally {
      await ctx.close();
    }
  });
});
