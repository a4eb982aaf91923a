/**
 * PtzController + OnvifCamera against the simulated ONVIF camera over real HTTP on 127.0.0.1: what
 * reaches the camera (action, profile token, velocities, Timeout), timing bounds, and failure cases.
 */
import * as assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnvifCamera } from '../../lib/onvif/onvif-camera';
import { OnvifError } from '../../lib/onvif/onvif-error';
import { PtzMotion } from '../../lib/onvif/ptz-request';
import { PTZ_PROFILE_TOKEN, RecordedOnvifCall, VIDEO_SOURCE_TOKEN } from '../../lib/sim/onvif-camera';
import { delay, Rig, startRig, waitFor } from './onvif-fixture';

const move = (over: Partial<PtzMotion>): PtzMotion => ({ kind: 'move', panSpeed: 0, tiltSpeed: 0, zoomSpeed: 0, ...over });

describe('onvif: PTZ controller against a simulated camera', function () {
  this.timeout(20000);
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('connects, picks the profile with a PTZConfiguration, reports PTZType 1 and status "PTZ"', async () => {
    rig = await startRig();
    assert.equal(rig.ptz.ptzType(), 3, 'unknown until the camera answered');
    const info = await rig.camera.connect();
    assert.deepEqual(info, { ptz: true, profileToken: PTZ_PROFILE_TOKEN, videoSourceToken: VIDEO_SOURCE_TOKEN, imaging: true });
    assert.equal(rig.ptz.ptzType(), 1);
    assert.equal(rig.ptz.status(), 'PTZ');
    assert.ok(rig.sim.requests.filter((r) => r.action === 'GetProfiles').every((r) => r.authenticated), 'GetProfiles carried a valid digest');
  });

  it('each direction and speed moves the camera with the right velocity signs and scale, and the ONVIF Timeout', async () => {
    rig = await startRig({}, {}, { stopAfterMs: 3000 });
    const cases: Array<[PtzMotion, { x: number; y: number; zoom: number }]> = [
      [move({ pan: 'right', panSpeed: 255 }), { x: 1, y: 0, zoom: 0 }],
      [move({ pan: 'left', panSpeed: 128 }), { x: -0.502, y: 0, zoom: 0 }],
      [move({ tilt: 'up', tiltSpeed: 51 }), { x: 0, y: 0.2, zoom: 0 }],
      [move({ tilt: 'down', tiltSpeed: 255 }), { x: 0, y: -1, zoom: 0 }],
      [move({ pan: 'right', tilt: 'down', panSpeed: 102, tiltSpeed: 204 }), { x: 0.4, y: -0.8, zoom: 0 }],
      [move({ pan: 'left', tilt: 'up', panSpeed: 25, tiltSpeed: 25 }), { x: -0.098, y: 0.098, zoom: 0 }],
      [move({ zoom: 'in', zoomSpeed: 15 }), { x: 0, y: 0, zoom: 1 }],
      [move({ zoom: 'out', zoomSpeed: 3 }), { x: 0, y: 0, zoom: -0.2 }],
    ];
    for (const [request, want] of cases) {
      const outcome = await rig.ptz.handle(request);
      assert.deepEqual(outcome, { result: 'done' });
      const call: RecordedOnvifCall = rig.sim.calls[rig.sim.calls.length - 1];
      assert.equal(call.action, 'ContinuousMove');
      assert.equal(call.profileToken, PTZ_PROFILE_TOKEN);
      assert.equal(call.fault, undefined);
      assert.equal(call.timeoutMs, 3000);
      assert.deepEqual(call.velocity, want, JSON.stringify(request));
      assert.deepEqual({ x: rig.sim.model.motion?.x, y: rig.sim.model.motion?.y, zoom: rig.sim.model.motion?.zoom }, want);
    }
  });

  it('stop (all bits 0) sends Stop and the camera stops; a move with no direction bits is a stop too', async () => {
    rig = await startRig();
    await rig.ptz.handle(move({ pan: 'right', panSpeed: 200 }));
    assert.ok(rig.sim.model.motion);
    assert.deepEqual(await rig.ptz.handle({ kind: 'stop' }), { result: 'done' });
    const last = rig.sim.calls[rig.sim.calls.length - 1];
    assert.equal(last.action, 'Stop');
    assert.equal(last.profileToken, PTZ_PROFILE_TOKEN);
    assert.equal(rig.sim.model.motion, null);
    assert.equal(rig.ptz.isMoving(), false);
    await rig.ptz.handle(move({}));
    assert.equal(rig.sim.calls[rig.sim.calls.length - 1].action, 'Stop');
  });

  it('a lost stop: the watchdog stops the camera within the bound after the last command', async () => {
    rig = await startRig({}, {}, { stopAfterMs: 300 });
    let autoStops = 0;
    rig.ptz.on('auto-stop', () => autoStops++);
    const started = Date.now();
    await rig.ptz.handle(move({ pan: 'left', panSpeed: 100 }));
    await delay(150);
    await rig.ptz.handle(move({ pan: 'left', panSpeed: 120 })); // a repeat re-arms the watchdog
    const lastCommandAt = Date.now();
    const stopped = await waitFor(() => rig?.sim.calls.some((c) => c.action === 'Stop') ?? false, 2000);
    assert.ok(stopped, 'a Stop reached the camera');
    const stopAt = rig.sim.calls.find((c) => c.action === 'Stop')?.at ?? 0;
    assert.ok(stopAt - lastCommandAt >= 250, `not before the bound (${stopAt - lastCommandAt} ms)`);
    assert.ok(stopAt - lastCommandAt < 300 + 600, `within the bound (${stopAt - lastCommandAt} ms)`);
    assert.ok(stopAt - started > 400, 'the repeat postponed it');
    assert.equal(rig.sim.model.motion, null);
    assert.equal(autoStops, 1);
    assert.ok(rig.logs.some((l) => /no PTZ command for 300 ms: stopping/.test(l.message)));
  });

  it('the camera itself stops at the ONVIF Timeout even if our Stop never arrives', async () => {
    rig = await startRig({}, {}, { stopAfterMs: 250 });
    await rig.ptz.handle(move({ tilt: 'up', tiltSpeed: 60 }));
    await rig.sim.setMode('refuse'); // our watchdog's Stop cannot get through now
    assert.ok(await waitFor(() => rig?.sim.model.motion === null, 1500), 'the camera timed the move out');
  });

  it('presets: set, list, call, delete, with our numbers mapped to the camera tokens', async () => {
    rig = await startRig({ presets: [{ token: 'guid-a', name: 'gate' }] });
    const before = await rig.ptz.listPresets();
    assert.deepEqual(before, [{ id: 1, token: 'guid-a', name: 'gate' }]);
    assert.deepEqual(await rig.ptz.handle({ kind: 'preset', action: 'set', preset: 3 }), { result: 'done' });
    const set = rig.sim.calls.filter((c) => c.action === 'SetPreset');
    assert.equal(set.length, 1);
    assert.equal(set[0].presetName, 'Preset 3');
    assert.equal(set[0].presetToken, undefined, 'a new preset: the camera chooses the token');
    const created = rig.sim.model.presets().find((p) => p.name === 'Preset 3');
    assert.ok(created);
    assert.deepEqual(await rig.ptz.listPresets(), [
      { id: 1, token: 'guid-a', name: 'gate' },
      { id: 3, token: created.token, name: 'Preset 3' },
    ]);
    // Setting it again overwrites the same camera preset instead of creating another.
    await rig.ptz.handle({ kind: 'preset', action: 'set', preset: 3 });
    assert.equal(rig.sim.calls.filter((c) => c.action === 'SetPreset')[1].presetToken, created.token);
    assert.equal(rig.sim.model.presets().length, 2);
    assert.deepEqual(await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 1 }), { result: 'done' });
    const goto = rig.sim.calls.filter((c) => c.action === 'GotoPreset');
    assert.equal(goto[0].presetToken, 'guid-a');
    assert.deepEqual(await rig.ptz.handle({ kind: 'preset', action: 'delete', preset: 3 }), { result: 'done' });
    assert.equal(rig.sim.calls.filter((c) => c.action === 'RemovePreset')[0].presetToken, created.token);
    assert.deepEqual(await rig.ptz.listPresets(), [{ id: 1, token: 'guid-a', name: 'gate' }]);
    // An unknown number is not sent to the camera (it would answer ter:NoToken).
    const unknown = await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 9 });
    assert.equal(unknown.result, 'ignored');
    assert.equal(rig.sim.calls.filter((c) => c.fault).length, 0, 'the camera never had to fault');
    assert.equal((await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 0 })).result, 'ignored');
  });

  it('presets the camera numbers itself ("1".."255" tokens) keep their numbers', async () => {
    rig = await startRig({ presets: [{ token: '12', name: 'parking' }, { token: '4', name: '' }, { token: '1.0', name: 'dock & gate' }] });
    assert.deepEqual(await rig.ptz.listPresets(), [
      { id: 1, token: '1.0', name: 'dock & gate' },
      { id: 4, token: '4', name: 'Preset 4' },
      { id: 12, token: '12', name: 'parking' },
    ]);
    await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 12 });
    assert.equal(rig.sim.calls[rig.sim.calls.length - 1].presetToken, '12');
    // Tokens go back exactly as the camera wrote them ("1.0", not 1); names with XML characters survive.
    await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 1 });
    assert.equal(rig.sim.calls[rig.sim.calls.length - 1].presetToken, '1.0');
    await rig.ptz.handle({ kind: 'preset', action: 'set', preset: 1 });
    const set = rig.sim.calls[rig.sim.calls.length - 1];
    assert.deepEqual([set.action, set.presetToken, set.presetName, set.fault], ['SetPreset', '1.0', 'dock & gate', undefined]);
  });

  it('home position: goto always, set only when enabled', async () => {
    rig = await startRig({}, {}, { allowSetHome: false });
    assert.deepEqual(await rig.ptz.handle({ kind: 'home', action: 'goto' }), { result: 'done' });
    assert.equal(rig.sim.calls[rig.sim.calls.length - 1].action, 'GotoHomePosition');
    assert.equal((await rig.ptz.handle({ kind: 'home', action: 'set' })).result, 'ignored');
    assert.ok(!rig.sim.calls.some((c) => c.action === 'SetHomePosition'));
    await rig.close();
    rig = await startRig({}, {}, { allowSetHome: true });
    assert.deepEqual(await rig.ptz.handle({ kind: 'home', action: 'set' }), { result: 'done' });
    assert.equal(rig.sim.calls[rig.sim.calls.length - 1].action, 'SetHomePosition');
  });

  it('guard position (HomePosition Enabled 1): after ResetTime idle the camera returns to the preset; Enabled 0 cancels', async () => {
    rig = await startRig({ presets: [{ token: 'guid-gate', name: 'gate' }] }, {}, { stopAfterMs: 5000 });
    await rig.ptz.listPresets(); // gate is preset 1
    let returns = 0;
    rig.ptz.on('guard-return', () => returns++);
    assert.deepEqual(await rig.ptz.handle({ kind: 'home-position', enabled: true, resetTime: 0.3, presetIndex: 1 }), { result: 'done' });
    assert.deepEqual(rig.ptz.guardPositionState(), { presetIndex: 1, resetTime: 0.3 });
    await rig.ptz.handle(move({ pan: 'left', panSpeed: 40 }));
    await delay(400);
    assert.ok(!rig.sim.calls.some((c) => c.action === 'GotoPreset'), 'not while the camera moves');
    const stopAt = Date.now();
    await rig.ptz.handle({ kind: 'stop' });
    assert.ok(await waitFor(() => returns === 1, 1500), 'returned');
    const back = rig.sim.calls.find((c) => c.action === 'GotoPreset');
    assert.equal(back?.presetToken, 'guid-gate');
    assert.ok((back?.at ?? 0) - stopAt >= 250, 'after the idle time, counted from the last command');
    await rig.ptz.handle({ kind: 'home-position', enabled: false });
    assert.equal(rig.ptz.guardPositionState(), undefined);
    await rig.ptz.handle(move({ pan: 'left', panSpeed: 40 }));
    await rig.ptz.handle({ kind: 'stop' });
    await delay(500);
    assert.equal(rig.sim.calls.filter((c) => c.action === 'GotoPreset').length, 1, 'no return once off');
  });

  it('guard position without PresetIndex: SetHomePosition now when allowed, GotoHomePosition after the idle time', async () => {
    rig = await startRig({}, {}, { allowSetHome: true });
    assert.deepEqual(await rig.ptz.handle({ kind: 'home-position', enabled: true, resetTime: 0.2 }), { result: 'done' });
    assert.equal(rig.sim.calls[rig.sim.calls.length - 1].action, 'SetHomePosition');
    assert.ok(await waitFor(() => rig?.sim.calls.some((c) => c.action === 'GotoHomePosition') ?? false, 1500));
  });

  it('focus goes to Imaging Move/Stop on the profile video source; iris is logged, not sent; stop also stops focus', async () => {
    rig = await startRig({}, {}, { stopAfterMs: 3000 });
    assert.deepEqual(await rig.ptz.handle({ kind: 'focus-iris', focus: 'near', focusSpeed: 128, irisSpeed: 0 }), { result: 'done' });
    const mv = rig.sim.calls[rig.sim.calls.length - 1];
    assert.deepEqual([mv.service, mv.action, mv.videoSourceToken, mv.focusSpeed], ['imaging', 'Move', VIDEO_SOURCE_TOKEN, -0.502]);
    assert.equal(rig.sim.model.focusSpeed, -0.502);
    await rig.ptz.handle({ kind: 'stop' });
    assert.ok(rig.sim.calls.some((c) => c.service === 'imaging' && c.action === 'Stop'));
    assert.equal(rig.sim.model.focusSpeed, 0);
    const iris = await rig.ptz.handle({ kind: 'focus-iris', iris: 'open', focusSpeed: 0, irisSpeed: 100 });
    assert.equal(iris.result, 'ignored');
    assert.ok(rig.logs.some((l) => /iris open ignored/.test(l.message)));
  });

  it('a burst of 20 moves in 50 ms: far fewer SOAP calls, one in flight at a time, the last one wins', async () => {
    rig = await startRig({ answerDelayMs: 20 }, {}, { stopAfterMs: 5000 });
    await rig.camera.connect();
    const startedAt = rig.sim.requests.length;
    const outcomes = [];
    for (let i = 1; i <= 20; i++) {
      outcomes.push(rig.ptz.handle(move({ pan: 'right', panSpeed: i * 10 })));
      await delay(2.5);
    }
    const results = await Promise.all(outcomes);
    const moves = rig.sim.calls.filter((c) => c.action === 'ContinuousMove');
    assert.ok(moves.length <= 5, `${moves.length} ContinuousMove calls for 20 commands`);
    assert.equal(moves[moves.length - 1].velocity?.x, 0.7843, 'the last command (speed 200) is what the camera runs');
    assert.equal(rig.sim.model.motion?.x, 0.7843);
    assert.equal(results.filter((r) => r.result === 'coalesced').length, 20 - moves.length);
    assert.equal(rig.sim.maxInFlight, 1, 'one SOAP call in flight');
    assert.ok(rig.sim.requests.length - startedAt === moves.length);
  });

  it('20 identical repeats in 50 ms to a fast camera: one ContinuousMove; a repeat past half the Timeout renews it', async () => {
    rig = await startRig({}, {}, { stopAfterMs: 600 });
    await rig.camera.connect();
    const outcomes = [];
    for (let i = 0; i < 20; i++) {
      outcomes.push(rig.ptz.handle(move({ tilt: 'down', tiltSpeed: 90 })));
      await delay(2.5);
    }
    const results = await Promise.all(outcomes);
    assert.equal(rig.sim.calls.filter((c) => c.action === 'ContinuousMove').length, 1);
    assert.equal(results[0].result, 'done');
    assert.equal(results.filter((r) => r.result === 'coalesced').length, 19);
    await delay(350);
    await rig.ptz.handle(move({ tilt: 'down', tiltSpeed: 90 }));
    assert.equal(rig.sim.calls.filter((c) => c.action === 'ContinuousMove').length, 2, 'renewed past half of the 600 ms Timeout');
    await rig.ptz.handle(move({ tilt: 'down', tiltSpeed: 91 }));
    assert.equal(rig.sim.calls.filter((c) => c.action === 'ContinuousMove').length, 3, 'a different speed is sent at once');
    await rig.ptz.handle({ kind: 'stop' });
    await rig.ptz.handle(move({ tilt: 'down', tiltSpeed: 91 }));
    assert.equal(rig.sim.calls.filter((c) => c.action === 'ContinuousMove').length, 4, 'after a stop the same move is sent again');
  });
});

describe('onvif: fixed cameras and failures', function () {
  this.timeout(20000);
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a fixed camera (no PTZ): PTZType 3, status "fixed", commands answered without error and nothing sent, empty preset list', async () => {
    rig = await startRig({ ptz: false });
    const errors: OnvifError[] = [];
    rig.ptz.on('ptz-error', (e: OnvifError) => errors.push(e));
    const info = await rig.camera.connect();
    assert.equal(info.ptz, false);
    assert.equal(rig.ptz.ptzType(), 3);
    assert.equal(rig.ptz.status(), 'fixed');
    assert.equal((await rig.ptz.handle(move({ pan: 'left', panSpeed: 50 }))).result, 'ignored');
    assert.equal((await rig.ptz.handle({ kind: 'stop' })).result, 'ignored');
    assert.equal((await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 1 })).result, 'ignored');
    assert.deepEqual(await rig.ptz.listPresets(), []);
    assert.equal(rig.sim.calls.length, 0, 'no PTZ call reached the camera');
    assert.deepEqual(errors, []);
  });

  it('a fixed camera before its first connect: the command connects, finds no PTZ, and is ignored without error', async () => {
    rig = await startRig({ ptz: false });
    const outcome = await rig.ptz.handle(move({ pan: 'left', panSpeed: 50 }));
    assert.equal(outcome.result, 'ignored');
    assert.equal(rig.sim.calls.length, 0);
  });

  it('wrong credentials: ONVIF_AUTH, status "ONVIF: wrong credentials", one log line, ptz-error; nothing crashes', async () => {
    rig = await startRig({}, { password: 'Wr0ng-Pa55' });
    const errors: OnvifError[] = [];
    const statuses: string[] = [];
    rig.ptz.on('ptz-error', (e: OnvifError) => errors.push(e));
    rig.ptz.on('status', (s: string) => statuses.push(s));
    const t0 = Date.now();
    const outcome = await rig.ptz.handle(move({ pan: 'right', panSpeed: 80 }));
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(outcome.result, 'failed');
    assert.equal(outcome.result === 'failed' && outcome.error.code, 'ONVIF_AUTH');
    assert.equal(rig.ptz.status(), 'ONVIF: wrong credentials');
    assert.ok(statuses.includes('ONVIF: wrong credentials'));
    assert.equal(errors.length, 1);
    assert.equal(errors[0].context.camera, 'cam-1');
    assert.match(errors[0].message, /credentials/);
    assert.ok(rig.logs.some((l) => l.level === 'warn' && /refused the ONVIF credentials/.test(l.message) && l.context?.camera === 'cam-1'));
    assert.ok(rig.logs.length > 0);
    assert.ok(!rig.logs.some((l) => `${l.message} ${JSON.stringify(l.context)}`.includes('Wr0ng-Pa55')), 'no password in logs');
    assert.ok(rig.sim.calls.length === 0);
    await assert.rejects(rig.ptz.listPresets(), (e: unknown) => e instanceof OnvifError && e.code === 'ONVIF_AUTH');
    for (let i = 0; i < 5; i++) await rig.ptz.handle(move({ pan: 'left', panSpeed: 10 }));
    assert.equal(rig.logs.filter((l) => l.level === 'warn').length, 2, 'the camera and the controller warn once each, not at every press');
    assert.equal(errors.length, 7, 'every failed command is still an event');
  });

  it('a camera that wants HTTP Digest instead of WS-Security: moves with the right password, ONVIF_AUTH with a wrong one', async () => {
    rig = await startRig({ authScheme: 'http-digest' });
    assert.deepEqual(await rig.ptz.handle(move({ pan: 'right', panSpeed: 255 })), { result: 'done' });
    assert.equal(rig.sim.model.motion?.x, 1);
    await rig.close();
    rig = await startRig({ authScheme: 'http-digest' }, { password: 'nope' });
    const outcome = await rig.ptz.handle(move({ pan: 'right', panSpeed: 255 }));
    assert.equal(outcome.result === 'failed' && outcome.error.code, 'ONVIF_AUTH');
    assert.equal(rig.ptz.status(), 'ONVIF: wrong credentials');
  });

  it('a port that refuses: ONVIF_REFUSED at once, then fail-fast during the backoff, status says refused', async () => {
    rig = await startRig({ mode: 'refuse' }, { retryBackoffMs: 60000 });
    const t0 = Date.now();
    const first = await rig.ptz.handle(move({ pan: 'right', panSpeed: 80 }));
    assert.equal(first.result === 'failed' && first.error.code, 'ONVIF_REFUSED');
    assert.ok(Date.now() - t0 < 500, 'refusal is immediate');
    assert.equal(rig.ptz.status(), 'ONVIF: connection refused');
    const t1 = Date.now();
    const second = await rig.ptz.handle({ kind: 'preset', action: 'call', preset: 2 });
    assert.equal(second.result === 'failed' && second.error.code, 'ONVIF_REFUSED');
    assert.ok(Date.now() - t1 < 50, 'fail-fast during the backoff');
    await assert.rejects(rig.ptz.listPresets(), (e: unknown) => e instanceof OnvifError && e.code === 'ONVIF_REFUSED');
  });

  it('a camera that never answers: each call returns within its bound with ONVIF_TIMEOUT; PresetQuery within its bound', async () => {
    rig = await startRig({ mode: 'hang' }, { callTimeoutMs: 400, retryBackoffMs: 0 }, { presetQueryTimeoutMs: 1500 });
    const t0 = Date.now();
    const outcome = await rig.ptz.handle(move({ pan: 'right', panSpeed: 80 }));
    const took = Date.now() - t0;
    assert.equal(outcome.result === 'failed' && outcome.error.code, 'ONVIF_TIMEOUT');
    assert.ok(took >= 350 && took < 1200, `bounded by the call timeout (${took} ms)`);
    assert.equal(rig.ptz.status(), 'ONVIF: no answer');
    const t1 = Date.now();
    await assert.rejects(rig.ptz.listPresets(), (e: unknown) => e instanceof OnvifError && e.code === 'ONVIF_TIMEOUT');
    assert.ok(Date.now() - t1 < 1900, `PresetQuery bounded (${Date.now() - t1} ms)`);
  });

  it('a port that answers HTML (a web UI, not ONVIF): ONVIF_BAD_RESPONSE, status says so', async () => {
    const web = http.createServer((_req, res) => res.end('<html><body>login</body></html>'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const camera = new OnvifCamera({ name: 'cam-web', hostname: '127.0.0.1', port: (web.address() as AddressInfo).port, username: 'admin', password: 'secret', callTimeoutMs: 1000 });
    try {
      await assert.rejects(camera.connect(), (e: unknown) => e instanceof OnvifError && e.code === 'ONVIF_BAD_RESPONSE');
      assert.equal(camera.status().text, 'ONVIF: not an ONVIF port');
      assert.equal(camera.ptzType(), 3);
    } finally {
      camera.close();
      await new Promise((r) => web.close(r));
    }
  });

  it('a camera whose GetProfiles answer is empty: ONVIF_BAD_RESPONSE, no crash', async () => {
    rig = await startRig();
    const run = rig.sim.model.run.bind(rig.sim.model);
    rig.sim.model.run = (service, action, args, base) => (action === 'GetProfiles' ? '<trt:GetProfilesResponse/>' : run(service, action, args, base));
    await assert.rejects(rig.camera.connect(), (e: unknown) => e instanceof OnvifError && e.code === 'ONVIF_BAD_RESPONSE');
    assert.equal(rig.ptz.status(), 'ONVIF: not an ONVIF port');
  });

  it('a slow camera: PresetQuery gives up at its overall bound, below WVP\'s 4 s', async () => {
    rig = await startRig({ answerDelayMs: 300 }, { callTimeoutMs: 1000 }, { presetQueryTimeoutMs: 700 });
    const t0 = Date.now();
    await assert.rejects(rig.ptz.listPresets(), (e: unknown) => e instanceof OnvifError && e.code === 'ONVIF_TIMEOUT');
    const took = Date.now() - t0;
    assert.ok(took >= 650 && took < 1100, `bounded (${took} ms)`);
    // The work goes on in the background and the next query is answered from a connected camera.
    await delay(700);
    assert.deepEqual(await rig.ptz.listPresets(), []);
  });

  it('start(): connects at once, retries while the camera is down, logs one warning per cause, status follows', async () => {
    rig = await startRig({ mode: 'refuse' }, { retryBackoffMs: 0 }, { reconnectEveryMs: 100 });
    const statuses: string[] = [];
    rig.ptz.on('status', (s: string) => statuses.push(s));
    rig.ptz.start();
    assert.ok(await waitFor(() => rig?.ptz.status() === 'ONVIF: connection refused', 1000));
    await delay(450); // about four more attempts
    assert.equal(rig.logs.filter((l) => l.level === 'warn').length, 1, 'one warning, not one per retry');
    assert.ok(rig.logs.filter((l) => l.level === 'debug' && /still failing/.test(l.message)).length >= 2);
    await rig.sim.setMode('normal');
    assert.ok(await waitFor(() => rig?.ptz.status() === 'PTZ', 1000), 'reconnected by itself');
    assert.equal(rig.ptz.ptzType(), 1);
    assert.equal(statuses[statuses.length - 1], 'PTZ');
  });

  it('a camera that comes back after refusing is used again once the backoff is over', async () => {
    rig = await startRig({ mode: 'refuse' }, { retryBackoffMs: 200 });
    assert.equal((await rig.ptz.handle(move({ pan: 'right', panSpeed: 80 }))).result, 'failed');
    await rig.sim.setMode('normal');
    await delay(250);
    assert.deepEqual(await rig.ptz.handle(move({ pan: 'right', panSpeed: 80 })), { result: 'done' });
    assert.equal(rig.ptz.status(), 'PTZ');
    assert.equal(rig.sim.model.motion?.x, 0.3137);
  });
});
