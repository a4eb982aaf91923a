/**
 * The PTZ/alarm glue of the nodes without a runtime: ONVIF settings from node properties, control
 * payloads from a wire, alarm payloads from a flow, and SourcePtz's PTZType and status note.
 */
import * as assert from 'node:assert/strict';
import { readAlarmInput } from '../../lib/node-glue/alarm-message';
import { readControlEvent, readSourceOnvifSettings, SourcePtz } from '../../lib/node-glue/source-ptz';
import { DEFAULTS } from '../../lib/config/gateway-config';
import { SimulatedOnvifCamera } from '../../lib/sim/onvif-camera';

const CH = '34020000001320000001';
const DEV = '34020000001180000001';

describe('node glue: PTZ and alarms', function () {
  this.timeout(15000);

  describe('readSourceOnvifSettings', () => {
    it('a node saved before ONVIF existed: off; a new node: on with the defaults', () => {
      assert.equal(readSourceOnvifSettings({}, {}).onvif.enabled, false);
      const { onvif, problems } = readSourceOnvifSettings({ onvifEnabled: true, onvifHost: '', onvifPort: 80, onvifPath: '', stopAfter: 1000, allowSetHome: false }, {});
      assert.deepEqual(problems, []);
      assert.deepEqual(onvif, { ...DEFAULTS.onvif });
    });

    it('host, port, path, separate login, stop-after, set home; strings from the editor', () => {
      const { onvif } = readSourceOnvifSettings({ onvifEnabled: 'true', onvifHost: '[fe80::1]', onvifPort: '8080', onvifPath: '/onvif/dev', stopAfter: '2500', allowSetHome: 'true' }, { onvifUsername: ' op ', onvifPassword: 'pw' });
      assert.deepEqual(onvif, { enabled: true, host: 'fe80::1', port: 8080, path: '/onvif/dev', username: 'op', password: 'pw', stopAfterMs: 2500, allowSetHome: true });
    });

    it('bad values: one problem line each, and ONVIF stays off', () => {
      const { onvif, problems } = readSourceOnvifSettings({ onvifEnabled: true, onvifHost: 'bad host!', onvifPort: '70000', onvifPath: 'onvif', stopAfter: '5' }, {});
      assert.equal(onvif.enabled, false);
      assert.equal(problems.length, 4, problems.join('\n'));
      assert.match(problems.join('\n'), /ONVIF host "bad host!"/);
      assert.match(problems.join('\n'), /ONVIF port must be a whole number from 1 to 65535 \(got "70000"\)/);
      assert.match(problems.join('\n'), /ONVIF path must start with \//);
      assert.match(problems.join('\n'), /stop after must be a whole number of ms from 100 to 60000/);
    });
  });

  describe('readControlEvent', () => {
    it('a DeviceControlEvent as gb28181-device sends it, a raw PTZCmd, a hand-built command, home-position', () => {
      const sent = { type: 'ptz', deviceId: CH, sn: '7', raw: 'A50F010280000037', command: { kind: 'move', address: 1, pan: 'left', panSpeed: 128, tiltSpeed: 0, zoomSpeed: 0 } };
      const a = readControlEvent(sent);
      assert.equal(a.kind, 'ptz-event');
      assert.deepEqual(a.kind === 'ptz-event' && a.event, { type: 'ptz', deviceId: CH, sn: '7', raw: 'A50F010280000037', command: { kind: 'move', address: 1, pan: 'left', panSpeed: 128, tiltSpeed: 0, zoomSpeed: 0 } });
      const b = readControlEvent({ type: 'ptz', deviceId: CH, raw: 'A50F0101FF0000B5' });
      assert.deepEqual(b.kind === 'ptz-event' && b.event.type === 'ptz' && b.event.command, { kind: 'move', address: 1, pan: 'right', tilt: undefined, zoom: undefined, panSpeed: 255, tiltSpeed: 0, zoomSpeed: 0 });
      const c = readControlEvent({ type: 'ptz', deviceId: CH, command: { kind: 'preset', action: 'call', preset: 4 } });
      assert.deepEqual(c.kind === 'ptz-event' && c.event.type === 'ptz' && c.event.command, { kind: 'preset', action: 'call', preset: 4, address: 0 });
      const d = readControlEvent({ type: 'home-position', deviceId: CH, sn: 3, enabled: true, resetTime: 30, presetIndex: 2 });
      assert.deepEqual(d.kind === 'ptz-event' && d.event, { type: 'home-position', deviceId: CH, sn: '3', enabled: true, resetTime: 30, presetIndex: 2 });
    });

    it('other DeviceControl types pass as not-PTZ; broken payloads say what is wrong', () => {
      assert.deepEqual(readControlEvent({ type: 'record', deviceId: CH, action: 'start' }), { kind: 'other-control', deviceId: CH, type: 'record' });
      const problem = (p: unknown) => {
        const r = readControlEvent(p);
        return r.kind === 'invalid' ? r.problem : `not invalid: ${r.kind}`;
      };
      assert.match(problem('left'), /must be a DeviceControl event object/);
      assert.match(problem({ type: 'ptz', deviceId: '123' }), /deviceId must be the 20-digit channel ID/);
      assert.match(problem({ type: 'ptz', deviceId: CH }), /needs msg\.payload\.command or msg\.payload\.raw/);
      assert.match(problem({ type: 'ptz', deviceId: CH, raw: 'A50F0101FF0000B4' }), /raw: PTZCmd checksum/);
      assert.match(problem({ type: 'ptz', deviceId: CH, command: { kind: 'move', panSpeed: 300, tiltSpeed: 0, zoomSpeed: 0 } }), /panSpeed must be an integer 0\.\.255/);
      assert.match(problem({ type: 'home-position', deviceId: CH }), /enabled must be true or false/);
      assert.match(problem({ type: 'jump', deviceId: CH }), /msg\.payload\.type must be a DeviceControl type/);
    });
  });

  describe('readAlarmInput', () => {
    const known = (id: string) => id === DEV || id === CH;
    it('a full alarm, a device alarm, numbers as strings, an ISO time', () => {
      assert.deepEqual(readAlarmInput({ channelId: CH, priority: 1, method: 5, type: 2, description: ' motion ', time: 1700000000000, longitude: 116.4, latitude: 39.9 }, DEV, known), {
        ok: true,
        alarm: { channelId: CH, priority: 1, method: 5, type: 2, description: 'motion', timeMs: 1700000000000, longitude: 116.4, latitude: 39.9 },
      });
      assert.deepEqual(readAlarmInput({ priority: '2', method: '2', time: '2026-01-02T03:04:05Z' }, DEV, known), {
        ok: true,
        alarm: { channelId: DEV, priority: 2, method: 2, timeMs: Date.parse('2026-01-02T03:04:05Z') },
      });
    });

    it('each bad field is named', () => {
      const problem = (p: unknown) => {
        const r = readAlarmInput(p, DEV, known);
        return r.ok ? 'ok' : r.problem;
      };
      assert.match(problem('motion'), /msg\.payload must be an object/);
      assert.match(problem({ priority: 0, method: 5 }), /priority must be a whole number 1\.\.4 \(got 0\)/);
      assert.match(problem({ priority: 1 }), /method is required/);
      assert.match(problem({ priority: 1, method: 8 }), /method must be a whole number 1\.\.7/);
      assert.match(problem({ channelId: 'gate', priority: 1, method: 5 }), /channelId must be 20 digits/);
      assert.match(problem({ channelId: '34020000001320000009', priority: 1, method: 5 }), /neither this device nor one of its channels/);
      assert.match(problem({ priority: 1, method: 5, time: 'yesterday' }), /time must be Unix ms or an ISO 8601 date/);
      assert.match(problem({ priority: 1, method: 5, longitude: 200, latitude: 1 }), /longitude must be degrees from -180 to 180/);
      assert.match(problem({ priority: 1, method: 5, longitude: 100 }), /longitude and latitude go together/);
      assert.match(problem({ priority: 1, method: 5, description: 'x'.repeat(201) }), /longer than 200/);
    });
  });

  describe('SourcePtz', () => {
    let sim: SimulatedOnvifCamera | undefined;
    let ptz: SourcePtz | undefined;
    afterEach(async () => {
      await ptz?.close();
      await sim?.stop();
      ptz = undefined;
      sim = undefined;
    });

    const make = (port: number, manualPtzType: number, enabled = true, password = 'secret') =>
      new SourcePtz({
        channelId: CH, name: 'Gate', url: 'rtsp://127.0.0.1:554/s', rtspUsername: 'admin', rtspPassword: password,
        onvif: { ...DEFAULTS.onvif, enabled, host: '127.0.0.1', port }, manualPtzType,
      });

    it('ONVIF off: the editor PTZType, no status note, controls ignored without a camera, no presets', async () => {
      ptz = make(1, 2, false);
      assert.equal(ptz.enabled, false);
      assert.equal(ptz.ptzType(), 2);
      assert.equal(ptz.statusNote(), undefined);
      const r = await ptz.handleControl({ type: 'ptz', deviceId: CH, sn: '1', raw: '', command: { kind: 'stop', address: 1 } });
      assert.deepEqual(r, { handled: true, outcome: { result: 'ignored', reason: 'ONVIF is off for this camera' } });
      assert.deepEqual(await ptz.presets(), []);
    });

    it('PTZ found: PTZType 1 (2 kept when chosen), note "PTZ", one change event; other channels are not handled', async () => {
      sim = new SimulatedOnvifCamera();
      await sim.start();
      ptz = make(sim.port, 3);
      let changes = 0;
      ptz.on('change', () => changes++);
      assert.equal(ptz.ptzType(), 3);
      ptz.start();
      const p = ptz;
      await new Promise<void>((resolve) => p.once('change', () => resolve()));
      assert.equal(ptz.ptzType(), 1);
      assert.deepEqual(ptz.statusNote(), { key: 'ptz', fallback: 'PTZ', failed: false });
      assert.equal(changes, 1);
      assert.deepEqual(await ptz.handleControl({ type: 'ptz', deviceId: '34020000001320000002', sn: '1', raw: '', command: { kind: 'stop', address: 1 } }), { handled: false, why: 'other channel' });
      assert.deepEqual(await ptz.handleControl({ type: 'keyframe', deviceId: CH, sn: '1' }), { handled: false, why: 'not ptz' });
      const halfDome = make(sim.port, 2);
      halfDome.start();
      await new Promise<void>((resolve) => halfDome.once('change', () => resolve()));
      assert.equal(halfDome.ptzType(), 2);
      await halfDome.close();
    });

    it('wrong credentials: a failed note with its catalogue key, PTZType stays the editor one', async () => {
      sim = new SimulatedOnvifCamera();
      await sim.start();
      ptz = make(sim.port, 3, true, 'nope');
      ptz.start();
      const p = ptz;
      await new Promise<void>((resolve) => p.once('change', () => resolve()));
      assert.deepEqual(ptz.statusNote(), { key: 'onvifAuth', fallback: 'ONVIF: wrong credentials', failed: true });
      assert.equal(ptz.ptzType(), 3);
    });
  });
});
