/**
 * The editor in a real browser for the editor tests: Debian's chromium driven by playwright-core
 * against a real Node-RED (child process, a temp user directory with this package installed,
 * 127.0.0.1 only), and the steps those tests share (import an example, deploy).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { NodeRedProcess, PROJECT_ROOT, startNodeRed } from '../support/node-red-process';
import { copyNodeAssets } from './node-test-support';

const CHROMIUM = '/usr/bin/chromium';

export interface EditorSession {
  page: Page;
  browser: Browser;
  red: NodeRedProcess;
  close(): Promise<void>;
}

/**
 * A package folder for Node-RED to install: package.json of the project, `build` = the build root
 * holding this compiled test (build/ in CI, build-<x>/ for a helper), examples and icons linked.
 */
function prepareUserDir(root: string, label: string): string {
  const pkgDir = path.join(root, 'package');
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(pkgDir, 'package.json'));
  fs.symlinkSync(path.resolve(__dirname, '..', '..'), path.join(pkgDir, 'build'), 'dir');
  for (const d of ['examples', 'icons', 'node_modules']) fs.symlinkSync(path.join(PROJECT_ROOT, d), path.join(pkgDir, d), 'dir');
  const userDir = path.join(root, 'userdir');
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: `gb28181-${label}-test`, private: true, dependencies: { 'node-red-contrib-gb28181': 'file:../package' } }, null, 2));
  fs.symlinkSync(pkgDir, path.join(userDir, 'node_modules', 'node-red-contrib-gb28181'), 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), '[]');
  return userDir;
}

/** Node-RED with this package and a chromium page on its editor, once the palette shows `waitForType`. */
export async function openEditor(label: string, opts: { viewport?: { width: number; height: number }; waitForType?: string } = {}): Promise<EditorSession> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
  copyNodeAssets();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `gb-${label}-`));
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await red?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    red = await startNodeRed(prepareUserDir(tmp, label));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1600, height: 900 } });
    await page.goto(red.url);
    await page.waitForSelector(`.red-ui-palette-node[data-palette-type="${opts.waitForType ?? 'gb28181-device'}"]`, { timeout: 30000 });
    return { page, browser, red, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The names listed under Import → Examples for this package. */
export async function listedExamples(page: Page): Promise<string> {
  return JSON.stringify(await page.evaluate('fetch("library/examples/flows/node-red-contrib-gb28181").then((r) => r.json())'));
}

/** Imports one of our examples as Import → Examples does; returns the nodes that fail their validation. */
export async function importExample(page: Page, name: string): Promise<string[]> {
  return await page.evaluate(`fetch("library/examples/flows/node-red-contrib-gb28181/${name}").then((r) => r.json()).then((flow) => {
    RED.view.importNodes(flow);
    const bad = [];
    RED.nodes.eachNode((n) => { if (!n.valid) bad.push(n.type + ' ' + n.id + ' ' + JSON.stringify(n.validationErrors || [])); });
    RED.nodes.eachConfig((n) => { if (n.valid === false) bad.push(n.type + ' ' + n.id); });
    return bad;
  })`) as string[];
}

/** Shows the tab holding the first node of `type` and deploys; a deploy with invalid nodes would ask for confirmation instead. */
export async function deployTabOf(page: Page, type: string): Promise<void> {
  const tab = await page.evaluate(`RED.nodes.filterNodes({type: ${JSON.stringify(type)}}).map((n) => n.z)[0]`) as string;
  await page.evaluate(`RED.workspaces.show(${JSON.stringify(tab)})`);
  await page.locator('#red-ui-header-button-deploy').click();
  await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")', { timeout: 15000 });
}
