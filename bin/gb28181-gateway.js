#!/usr/bin/env node
// Headless runner: the gateway without Node-RED. See README "Headless runner".
'use strict';
const path = require('node:path');
const build = path.join(__dirname, '..', 'build', 'lib');
let cli;
try {
  cli = require(path.join(build, 'cli', 'gateway-cli.js'));
} catch (e) {
  process.stderr.write(`gb28181-gateway: the compiled library is missing (${e.message}); run "npm run build" first\n`);
  process.exit(2);
}
let starter;
try {
  starter = require(path.join(build, 'gateway', 'gateway-starter.js')).startGatewayFromConfig;
} catch {
  starter = undefined;
}
cli.main(starter);
