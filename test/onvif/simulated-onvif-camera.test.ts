/**
 * The simulated camera itself, driven with hand-written SOAP (not the onvif package), so its checks
 * are known to hold whatever client talks to it.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { passwordDigest, PTZ_PROFILE_TOKEN, SimulatedOnvifCamera, SUB_PROFILE_TOKEN } from '../../lib/sim/onvif-camera';

function securityHeader(username: string, password: string, created = new Date().toISOString()): string {
  const nonce = randomBytes(16).toString('base64');
  return (
    '<s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
    `<Username>${username}</Username>` +
    `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${passwordDigest(nonce, created, password)}</Password>` +
    `<Nonce>${nonce}</Nonce><Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    '</UsernameToken></Security></s:Header>'
  );
}

function post(port: number, path: string, body: string, header = ''): Promise<{ status: number; text: string }> {
  const xml = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">${header}<s:Body>${body}</s:Body></s:Envelope>`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/soap+xml' }, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(xml);
  });
}

const motionOf = (s: SimulatedOnvifCamera) => s.model.motion;

const PTZ_NS = 'xmlns="http://www.onvif.org/ver20/ptz/wsdl"';
const TT_NS = 'xmlns="http://www.onvif.org/ver10/schema"';

describe('onvif: simulated camera checks what it receives', function () {
  this.timeout(10000);
  let sim: SimulatedOnvifCamera;
  const auth = () => securityHeader('admin', 'secret');

  beforeEach(async () => {
    sim = new SimulatedOnvifCamera({ presets: [{ token: 'home-1', name: 'gate' }] });
    await sim.start();
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('answers GetSystemDateAndTime without credentials, refuses GetProfiles without them or with a wrong digest (HTTP 400, ter:NotAuthorized)', async () => {
    const time = await post(sim.port, '/onvif/device_service', '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>');
    assert.equal(time.status, 200);
    assert.match(time.text, /<tt:UTCDateTime>/);
    const none = await post(sim.port, '/onvif/media_service', '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>');
    assert.equal(none.status, 400);
    assert.match(none.text, /ter:NotAuthorized/);
    const wrong = await post(sim.port, '/onvif/media_service', '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>', securityHeader('admin', 'guess'));
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /ter:NotAuthorized/);
    const stale = await post(sim.port, '/onvif/media_service', '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>', securityHeader('admin', 'secret', new Date(Date.now() - 3600_000).toISOString()));
    assert.equal(stale.status, 400, 'a Created one hour old is a replay');
    const ok = await post(sim.port, '/onvif/media_service', '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>', auth());
    assert.equal(ok.status, 200);
    assert.match(ok.text, /PTZConfiguration token="PTZConfig_1"/);
  });

  it('faults a ContinuousMove with a velocity outside [-1, 1], a profile without PTZ, an unknown profile, a bad Timeout; records each', async () => {
    const move = (profile: string, x: string, timeout = 'PT1S') =>
      post(sim.port, '/onvif/ptz_service', `<ContinuousMove ${PTZ_NS}><ProfileToken>${profile}</ProfileToken><Velocity><PanTilt x="${x}" y="0" ${TT_NS}/></Velocity><Timeout>${timeout}</Timeout></ContinuousMove>`, auth());
    const tooFast = await move(PTZ_PROFILE_TOKEN, '1.5');
    assert.equal(tooFast.status, 400);
    assert.match(tooFast.text, /ter:InvalidVelocity/);
    assert.match((await move(SUB_PROFILE_TOKEN, '0.5')).text, /ter:NoPTZProfile/);
    assert.match((await move('nope', '0.5')).text, /ter:NoProfile/);
    assert.match((await move(PTZ_PROFILE_TOKEN, '0.5', 'soon')).text, /ter:InvalidArgVal/);
    assert.equal(motionOf(sim), null, 'nothing moved');
    const good = await move(PTZ_PROFILE_TOKEN, '-0.5');
    assert.equal(good.status, 200);
    assert.equal(motionOf(sim)?.x, -0.5);
    assert.deepEqual(
      sim.calls.map((c) => c.fault ?? 'ok'),
      ['ter:InvalidVelocity', 'ter:NoPTZProfile', 'ter:NoProfile', 'ter:InvalidArgVal', 'ok'],
    );
    assert.equal(sim.calls[4].timeoutMs, 1000);
  });

  it('faults GotoPreset and RemovePreset for an unknown token, a PTZ action on the media path, an Imaging move on an unknown source', async () => {
    const goto = await post(sim.port, '/onvif/ptz_service', `<GotoPreset ${PTZ_NS}><ProfileToken>${PTZ_PROFILE_TOKEN}</ProfileToken><PresetToken>missing</PresetToken></GotoPreset>`, auth());
    assert.match(goto.text, /ter:NoToken/);
    const remove = await post(sim.port, '/onvif/ptz_service', `<RemovePreset ${PTZ_NS}><ProfileToken>${PTZ_PROFILE_TOKEN}</ProfileToken><PresetToken>missing</PresetToken></RemovePreset>`, auth());
    assert.match(remove.text, /ter:NoToken/);
    const wrongPath = await post(sim.port, '/onvif/media_service', `<Stop ${PTZ_NS}><ProfileToken>${PTZ_PROFILE_TOKEN}</ProfileToken></Stop>`, auth());
    assert.match(wrongPath.text, /ter:ActionNotSupported/);
    const focus = await post(sim.port, '/onvif/imaging_service', '<Move xmlns="http://www.onvif.org/ver20/imaging/wsdl"><VideoSourceToken>other</VideoSourceToken><Focus><Continuous><Speed>0.5</Speed></Continuous></Focus></Move>', auth());
    assert.match(focus.text, /ter:NoSource/);
    assert.deepEqual(sim.model.presets(), [{ token: 'home-1', name: 'gate' }]);
  });

  it('without PTZ: no PTZ address in GetCapabilities, PTZ actions not supported', async () => {
    const fixed = new SimulatedOnvifCamera({ ptz: false });
    await fixed.start();
    try {
      const caps = await post(fixed.port, '/onvif/device_service', '<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"><Category>All</Category></GetCapabilities>');
      assert.equal(caps.status, 200);
      assert.doesNotMatch(caps.text, /<tt:PTZ>/);
      const stop = await post(fixed.port, '/onvif/ptz_service', `<Stop ${PTZ_NS}><ProfileToken>${PTZ_PROFILE_TOKEN}</ProfileToken></Stop>`, auth());
      assert.match(stop.text, /ter:ActionNotSupported/);
    } finally {
      await fixed.stop();
    }
  });
});
