import * as assert from 'node:assert/strict';
import { PresetMap } from '../../lib/onvif/preset-map';

describe('onvif: preset numbers to camera tokens', () => {
  it('numbers from numeric tokens, then "Preset N"/"N" names, then the lowest free number; empty names become "Preset N"', () => {
    const m = new PresetMap();
    const list = m.reconcile([
      { token: 'abc-guid', name: 'gate' },
      { token: '5', name: 'door' },
      { token: 'PresetToken_9', name: 'Preset 9' },
      { token: 'x', name: '2' },
      { token: 'y', name: '' },
    ]);
    assert.deepEqual(
      list.map((e) => [e.id, e.token, e.name]),
      [
        [1, 'abc-guid', 'gate'],
        [2, 'x', '2'],
        [3, 'y', 'Preset 3'],
        [5, '5', 'door'],
        [9, 'PresetToken_9', 'Preset 9'],
      ],
    );
  });

  it('keeps numbers already given across refreshes, and drops presets the camera no longer has', () => {
    const m = new PresetMap();
    m.assign(7, 'tok-a', 'Preset 7');
    m.reconcile([{ token: 'tok-a', name: 'renamed' }, { token: 'tok-b', name: 'other' }]);
    assert.equal(m.tokenFor(7), 'tok-a');
    assert.equal(m.tokenFor(1), 'tok-b');
    m.reconcile([{ token: 'tok-b', name: 'other' }]);
    assert.equal(m.tokenFor(7), undefined);
    assert.equal(m.tokenFor(1), 'tok-b');
  });
});
