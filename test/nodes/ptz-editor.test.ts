/**
 * The PTZ parts of the editor in a real browser (Debian's chromium, playwright-core, a real Node-RED
 * on 127.0.0.1): examples/ptz-alarm.json is listed, imports with every node valid and deploys; the
 * rtsp-source dialog shows its ONVIF fields only when ONVIF is on, proposes the RTSP host, keeps the
 * ONVIF password out of flows.json; the help names the new message fields.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Page } from 'playwright-core';
import { NodeRedProcess } from '../support/node-red-process';
import { deployTabOf, EditorSession, importExample, listedExamples, openEditor } from './editor-session';

describe('editor in chromium: PTZ and alarms', function () {
  this.timeout(90000);
  let session: EditorSession;
  let page: Page;
  let red: NodeRedProcess;

  before(async () => {
    session = await openEditor('ptz-editor');
    ({ page, red } = session);
  });

  after(async () => {
    await session?.close();
  });

  it('lists examples/ptz-alarm.json, imports it with every node valid (inject nodes included), and deploys', async () => {
    const listed = await listedExamples(page);
    assert.ok(listed.includes('ptz-alarm'), listed);
    const invalid = await importExample(page, 'ptz-alarm');
    assert.deepEqual(invalid, []);
    assert.equal(await page.evaluate('RED.nodes.filterNodes({type: "inject"}).length'), 2);
    await deployTabOf(page, 'gb28181-device');
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
    const flowsText = fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8');
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
