/**
 * Shared setup of the Node-RED node tests: the compiled nodes of this build folder with their
 * .html, locales and icons copied beside them (as scripts/build.js does for build/), the test
 * helper bound to the installed node-red, and small waiting/inspection helpers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import helper from 'node-red-node-test-helper';
import type { Node, NodeInitializer } from 'node-red';
import { PROJECT_ROOT } from '../support/node-red-process';

export const NODE_TYPES = ['wvp-register', 'gb28181-device', 'rtsp-source', 'ps-rtp-sender', 'health-monitor'] as const;

/** build-<x>/nodes beside this compiled test. */
export const BUILT_NODES = path.resolve(__dirname, '..', '..', 'nodes');

function copyTree(from: string, to: string, keep: (name: string) => boolean): void {
  if (!fs.existsSync(from)) return;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, keep);
    else if (keep(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

/** Copies what Node-RED loads beside the compiled nodes (idempotent). */
export function copyNodeAssets(): void {
  copyTree(path.join(PROJECT_ROOT, 'nodes'), BUILT_NODES, (n) => !n.endsWith('.ts'));
  copyTree(path.join(PROJECT_ROOT, 'icons'), path.join(BUILT_NODES, 'icons'), () => true);
}

export function nodeInitializers(): NodeInitializer[] {
  copyNodeAssets();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return NODE_TYPES.map((t) => require(path.join(BUILT_NODES, `${t}.js`)) as NodeInitializer);
}

let initialised = false;
export function nodeHelper(): typeof helper {
  if (!initialised) {
    helper.init(require.resolve('node-red', { paths: [PROJECT_ROOT] }));
    initialised = true;
  }
  return helper;
}

export interface StatusValue {
  fill?: string;
  shape?: string;
  text?: string;
}

interface SpyCall {
  thisValue: unknown;
  args: unknown[];
}

/** Calls of a prototype method the helper spies on, made by this node. */
export function callsOf(node: Node, method: 'status' | 'error' | 'warn' | 'send' | 'log'): unknown[][] {
  const spy = (node as unknown as Record<string, { getCalls?: () => SpyCall[] }>)[method];
  if (!spy.getCalls) return [];
  return spy.getCalls().filter((c) => c.thisValue === node).map((c) => c.args);
}

export function lastStatus(node: Node): StatusValue | undefined {
  const calls = callsOf(node, 'status');
  const last = calls[calls.length - 1];
  return last ? (last[0] as StatusValue) : undefined;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function waitForStatus(node: Node, test: RegExp, timeoutMs = 10000): Promise<StatusValue> {
  return waitFor(`status of ${node.type} ${node.id} to match ${test} (last: ${JSON.stringify(lastStatus(node))})`, () => {
    const s = lastStatus(node);
    return s && typeof s.text === 'string' && test.test(s.text) ? s : undefined;
  }, timeoutMs);
}

/** ffmpeg/ffprobe processes that are children of this test process. */
export function ffChildren(): string[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out.split('\n').map((l) => l.trim()).filter((l) => /ff(mpeg|probe)/.test(l));
  } catch {
    return [];
  }
}
