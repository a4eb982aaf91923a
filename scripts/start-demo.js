#!/usr/bin/env node
// `npm start`: Node-RED on http://127.0.0.1:1880 with this package and the zero-setup demo flow.
// A simulated RTSP camera (with an ONVIF PTZ interface) and a simulated GB28181 platform (WVP-like) run in
// this same process, so the demo needs no camera and no WVP: the device registers, the platform subscribes,
// INVITEs a channel, moves the camera and lists its presets; frames arrive and camera 1 records.
// Options: --keep-flows (keep .nodered/flows.json if it exists), --port N (editor port, default 1880).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const keepFlows = args.includes('--keep-flows');
const portArg = args.indexOf('--port');
const uiPort = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.PORT || 1880);

const DEMO = {
  cameraPort: 8554,
  onvifPort: 18080,
  platformPort: 15060,
  platformPassword: '12345678',
  serverId: '34020000002000000001',
  domain: '3402000000',
  deviceId: '34020000001110000001',
};

function prepareUserDir() {
  const userDir = path.join(root, '.nodered');
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  const pkgFile = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkgFile)) fs.writeFileSync(pkgFile, JSON.stringify({ name: 'gb28181-demo-userdir', private: true }, null, 2));
  // The package is linked, not copied, so a rebuild shows up on the next start.
  const link = path.join(userDir, 'node_modules', 'node-red-contrib-gb28181');
  try {
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    // nothing there
  }
  fs.symlinkSync(root, link, 'dir');
  const flowFile = path.join(userDir, 'flows.json');
  if (!keepFlows || !fs.existsSync(flowFile)) {
    fs.copyFileSync(path.join(root, 'examples', 'zero-setup-demo.json'), flowFile);
    fs.rmSync(path.join(userDir, 'flows_cred.json'), { force: true });
  }
  const settings = path.join(userDir, 'settings.js');
  fs.writeFileSync(settings, `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${uiPort},
  userDir: ${JSON.stringify(userDir)},
  flowFile: 'flows.json',
  credentialSecret: 'gb28181-demo',
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  logging: { console: { level: 'info' } },
};
`);
  return { userDir, settings };
}

async function main() {
  const lib = path.join(root, 'build', 'lib');
  const { SimulatedCamera } = require(path.join(lib, 'sim', 'camera', 'simulated-camera.js'));
  const { PlatformEmulator } = require(path.join(lib, 'sim', 'platform', 'platform-emulator.js'));

  const camera = new SimulatedCamera({ host: '127.0.0.1', port: DEMO.cameraPort });
  await camera.start();
  console.log(`[demo] simulated camera: ${camera.url('/h264')} and ${camera.url('/h265-pcma')}`);
  // Camera 1's PTZ: an ONVIF device service with two presets. No login, so the flow needs no ONVIF secret.
  const { SimulatedOnvifCamera } = require(path.join(lib, 'sim', 'onvif-camera', 'simulated-onvif-camera.js'));
  const onvif = new SimulatedOnvifCamera({ host: '127.0.0.1', port: DEMO.onvifPort, authScheme: 'none',
    presets: [{ token: 'gate', name: 'Gate' }, { token: 'yard', name: 'Yard' }] });
  await onvif.start();
  onvif.on('call', (action) => { if (/Move|Stop|Preset/.test(action)) console.log(`[demo] camera 1 ONVIF: ${action}`); });
  console.log(`[demo] simulated ONVIF PTZ for camera 1: http://127.0.0.1:${DEMO.onvifPort}/onvif/device_service`);

  const platform = new PlatformEmulator({
    host: '127.0.0.1', port: DEMO.platformPort, serverId: DEMO.serverId, domain: DEMO.domain, password: DEMO.platformPassword,
    mediaPortRange: [31000, 31099], timeZone: 'Asia/Shanghai',
  });
  await platform.start();
  console.log(`[demo] simulated GB28181 platform ${DEMO.serverId} on udp 127.0.0.1:${DEMO.platformPort}`);
  const { startDemoPlatformScript } = require(path.join(lib, 'sim', 'platform', 'demo-script.js'));
  startDemoPlatformScript(platform, { deviceId: DEMO.deviceId, log: (line) => console.log(`[demo] ${line}`), subscribe: { expires: 3600 }, exercisePtz: true });

  // The demo flow's wvp-register takes the password from this variable: secrets never sit in flow JSON.
  process.env.GB28181_PLATFORM_PASSWORD = DEMO.platformPassword;
  const { settings, userDir } = prepareUserDir();
  process.argv = [process.argv[0], require.resolve('node-red/red.js'), '-s', settings, '-u', userDir];
  require('node-red/red.js');
  console.log(`[demo] Node-RED editor: http://127.0.0.1:${uiPort}/`);

  const shutdown = async () => {
    await platform.stop().catch(() => undefined);
    await camera.stop().catch(() => undefined);
    await onvif.stop().catch(() => undefined);
  };
  process.once('exit', () => void shutdown());
}

main().catch((e) => {
  console.error(`[demo] failed to start: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
