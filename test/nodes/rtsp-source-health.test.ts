/**
 * rtsp-source's health check (issue #8): while online it sends RTSP OPTIONS every healthInterval
 * seconds, so a camera that dies while nobody watches it produces the offline channel message (the
 * device then raises video loss); the retry-while-offline brings it back. 0 turns the check off.
 * Node-RED test runtime, a simulated camera on 127.0.0.1.
 */
import * as assert from 'node:assert/strict';
import type { NodeInitializer } from 'node-red';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { lastStatus, nodeHelper, nodeInitializers, waitFor } from './node-test-support';

const helper = nodeHelper();

interface ChannelMsg {
  topic: string;
  payload: { channelId: string; online: boolean; reason?: string };
}

describe('rtsp-source health check', function () {
  this.timeout(30_000);
  let inits: NodeInitializer[];
  let camera: SimulatedCamera;

  before(async () => {
    inits = nodeInitializers();
    camera = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    await camera.start();
  });

  after(async () => {
    await helper.unload();
    await camera.stop();
  });

  it('a camera that stops while idle: offline channel message after two failed checks; back online by the offline retry', async () => {
    const flow = [
      { id: 'watched', type: 'rtsp-source', channelId: '34020000001320000031', url: camera.url('/h264'), healthInterval: 1, retryInterval: 1, wires: [['out']] },
      { id: 'unwatched', type: 'rtsp-source', channelId: '34020000001320000032', url: camera.url('/h264'), healthInterval: 0, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    const got: ChannelMsg[] = [];
    await helper.load(inits, flow);
    helper.getNode('out').on('input', (m: unknown) => got.push(m as ChannelMsg));
    const of = (ch: string, online: boolean) => got.find((m) => m.payload.channelId === ch && m.payload.online === online);
    await waitFor('both online', () => of('34020000001320000031', true) && of('34020000001320000032', true), 15_000);
    // Healthy: the checks send nothing more.
    const settled = got.length;
    await new Promise((r) => setTimeout(r, 2300));
    assert.equal(got.length, settled, 'no message while the camera answers');

    const lostAt = Date.now();
    await camera.suspend();
    const off = await waitFor('offline channel message', () => of('34020000001320000031', false), 10_000);
    const took = Date.now() - lostAt;
    assert.ok(took >= 1000, `two checks, not one (${took} ms)`);
    assert.equal(off.topic, 'channel');
    assert.match(String(off.payload.reason), /refused|ECONNREFUSED/i);
    assert.equal(lastStatus(helper.getNode('watched'))?.fill, 'red');
    assert.equal(of('34020000001320000032', false), undefined, 'healthInterval 0: no check, no message');

    const count = got.length;
    await camera.resume();
    await waitFor('online again', () => got.slice(count).find((m) => m.payload.channelId === '34020000001320000031' && m.payload.online), 10_000);
  });
});
