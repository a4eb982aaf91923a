import * as assert from 'node:assert/strict';
import { PtzCommandQueue } from '../../lib/onvif/ptz-command-queue';

describe('onvif: PTZ command queue', () => {
  it('runs one job at a time in order, replaces a waiting motion by a newer one, never drops discrete jobs', async () => {
    const q = new PtzCommandQueue();
    const order: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const job = (name: string) => async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      order.push(name);
      inFlight--;
      return name;
    };
    const results = await Promise.all([
      q.push('motion', job('m1')),
      q.push('motion', job('m2')),
      q.push('motion', job('m3')),
      q.push('discrete', job('p1')),
      q.push('motion', job('m4')),
      q.push('motion', job('m5')),
    ]);
    assert.deepEqual(order, ['m1', 'm3', 'p1', 'm5']);
    assert.deepEqual(
      results.map((r) => r.status),
      ['done', 'coalesced', 'done', 'done', 'coalesced', 'done'],
    );
    assert.equal(maxInFlight, 1);
    assert.deepEqual(q.stats(), { sent: 4, coalesced: 2, waiting: 0, busy: false });
  });

  it('a failing job rejects its own promise and the queue goes on', async () => {
    const q = new PtzCommandQueue();
    const failed = q.push('discrete', () => Promise.reject(new Error('boom')));
    const next = q.push('discrete', () => Promise.resolve(42));
    await assert.rejects(failed, /boom/);
    assert.deepEqual(await next, { status: 'done', value: 42 });
  });
});
