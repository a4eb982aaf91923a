import * as assert from 'node:assert/strict';
import { OnvifCamera } from '../../lib/onvif/onvif-camera';
import { usernameTokenDigest } from '../../lib/onvif/ws-security-header';
import { passwordDigest, SimulatedOnvifCamera } from '../../lib/sim/onvif-camera';

describe('onvif: WS-Security header', function () {
  this.timeout(10000);

  it('digest = Base64(SHA-1(nonce + created + UTF-8 password)), the same as the camera computes', () => {
    const nonce = Buffer.from('0123456789abcdef');
    const created = '2026-01-02T03:04:05.000Z';
    assert.equal(usernameTokenDigest(nonce, created, 'pässwörd'), passwordDigest(nonce.toString('base64'), created, 'pässwörd'));
    assert.notEqual(usernameTokenDigest(nonce, created, 'pässwörd'), usernameTokenDigest(nonce, created, 'passwort'));
  });

  it('a non-ASCII password and a user name with XML characters authenticate (the package alone fails both)', async () => {
    const sim = new SimulatedOnvifCamera({ username: 'ops&<admin>', password: 'pässwörd-摄像机' });
    await sim.start();
    const camera = new OnvifCamera({ name: 'cam-utf8', hostname: '127.0.0.1', port: sim.port, username: 'ops&<admin>', password: 'pässwörd-摄像机', callTimeoutMs: 1000 });
    try {
      const info = await camera.connect();
      assert.equal(info.ptz, true);
      await camera.continuousMove({ x: 0.5, y: 0, zoom: 0 }, 500);
      assert.equal(sim.model.motion?.x, 0.5);
      assert.ok(sim.requests.filter((r) => r.action === 'ContinuousMove').every((r) => r.authenticated));
    } finally {
      camera.close();
      await sim.stop();
    }
  });
});
