import { strict as assert } from 'node:assert';
import { parseGatewayConfig, parseGatewayConfigText, toGatewayShape } from '../../lib/config/config-loader';
import { ConfigError } from '../../lib/errors';

const SEED = {
  rtsp_sources: [{ url: 'rtsp://admin:password@192.168.1.100:554/stream1', name: 'Front Door Camera', device_id: '34020000001320000001' }],
  wvp_server: { host: '192.168.1.200', port: 5060 },
};

const LEGACY = {
  sip: { device_id: '81000000465001000001', username: '81000000465001000001', password: 'admin123', server: '192.168.1.200', port: 5060,
    local_port: 5080, transport: 'udp', local_ip: '192.168.1.50', contact_ip: '203.0.113.7' },
  local_sip: { enabled: false, port: 5060, transport: 'udp' },
  stream_directory: './recordings',
  rtsp_sources: ['rtsp://admin:pw@192.168.1.100:554/stream1',
    { url: 'rtsp://192.168.1.101/12', name: 'Gate', channel_id: '81000000461310000002', enabled: true }],
  srtp: { key: '3132' }, logging: { level: 'INFO', console: true },
  pipeline: { format: 'RGB', width: 640, height: 480, framerate: 30 },
  max_channels: 20, sip_settings: { local_port: 5080, bind_address: '0.0.0.0', timeout: 10000 },
  wvp_compatibility: { response_timeout: 30 }, network_settings: { keepalive_interval: 60 },
};

function problemsOf(doc: unknown): string[] {
  try {
    parseGatewayConfig(doc);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('configuration was accepted');
}

describe('config loader', () => {
  it('reads a camera\'s recorder, archive naming, ONVIF and position settings, with defaults where silent', () => {
    const { config } = parseGatewayConfig({
      platform: { host: '127.0.0.1' },
      sources: [
        { url: 'rtsp://admin:pw@cam/1', record_dirs: ['/r'], longitude: 116.39, latitude: 39.9,
          record: { mode: 'On-Command', segment_seconds: 300, max_age_days: 7, max_size_mb: 2048, pattern: '{YYYYMMDD}/{HHmmss}', name_marks: 'end' },
          onvif: { host: '127.0.0.9', port: 8080, path: '/onvif/device', username: 'ptz', password: 'secret', stop_after_ms: 500, allow_set_home: true } },
        { url: 'rtsp://cam/2', onvif: { enabled: false } },
      ],
      record_cache_dir: '/var/cache/gb',
    });
    const [a, b] = config.sources;
    assert.deepEqual(a.record, { mode: 'on-command', segmentSeconds: 300, maxAgeDays: 7, maxSizeMb: 2048, pattern: '{YYYYMMDD}/{HHmmss}', nameMarks: 'end' });
    assert.deepEqual(a.onvif, { enabled: true, host: '127.0.0.9', port: 8080, path: '/onvif/device', username: 'ptz', password: 'secret', stopAfterMs: 500, allowSetHome: true });
    assert.equal(a.longitude, 116.39);
    assert.equal(a.latitude, 39.9);
    assert.deepEqual(b.record, { mode: 'off', segmentSeconds: 600, pattern: '{YYYY-MM-DD}/{HH-mm-ss}', nameMarks: 'start' });
    assert.deepEqual(b.onvif, { enabled: false, port: 80, stopAfterMs: 1000, allowSetHome: false });
    assert.equal(config.recordCacheDir, '/var/cache/gb');
    assert.equal(config.platform.alarmsAsMessage, undefined, 'alarms follow the subscription unless asked');
    assert.equal(parseGatewayConfig({ platform: { host: '127.0.0.1', alarms_as_message: true }, sources: [] }).config.platform.alarmsAsMessage, true);
    const printed = JSON.stringify(toGatewayShape(config));
    assert.ok(!printed.includes('secret'), 'the ONVIF password is masked in --print-config');
    const again = parseGatewayConfig(toGatewayShape(config, { showSecrets: true }) as unknown);
    assert.deepEqual(again.config.sources, config.sources, 'the printed shape reads back to the same sources');
  });

  it('names every wrong recorder and ONVIF value at once', () => {
    const problems = problemsOf({
      platform: { host: '127.0.0.1' },
      sources: [{ url: 'rtsp://cam/1', latitude: 95,
        record: { mode: 'always', segment_seconds: 1, pattern: '{HH}', extra: 1 },
        onvif: { port: 0, stop_after_ms: 'x', colour: 'red' } }],
    });
    for (const part of ['latitude', 'record.mode', 'record.segment_seconds', 'record.pattern', 'record.extra', 'onvif.port', 'onvif.stop_after_ms', 'onvif.colour']) {
      assert.ok(problems.some((p) => p.includes(part)), `a problem names ${part}: ${problems.join(' | ')}`);
    }
  });

  it('accepts the seed project file as is, with WVP defaults where it is silent', () => {
    const { config, shape } = parseGatewayConfig(SEED);
    assert.equal(shape, 'seed');
    assert.equal(config.platform.host, '192.168.1.200');
    assert.equal(config.platform.port, 5060);
    assert.equal(config.platform.id, '34020000002000000001');
    assert.equal(config.platform.domain, '3402000000');
    assert.equal(config.device.id, '34020000001110000001');
    assert.equal(config.platform.password, undefined);
    assert.equal(config.sources.length, 1);
    const s = config.sources[0];
    assert.equal(s.channelId, '34020000001320000001');
    assert.equal(s.name, 'Front Door Camera');
    assert.equal(s.url, 'rtsp://192.168.1.100:554/stream1', 'credentials are split out of the URL');
    assert.equal(s.username, 'admin');
    assert.equal(s.password, 'password');
  });

  it('accepts the full shape and reads every field', () => {
    const { config, shape } = parseGatewayConfig({
      device: { id: '34020000001180000009', name: '网关', manufacturer: 'M', model: 'X', firmware: '1.2' },
      platform: { host: '10.0.0.1', port: 15060, id: '44010000002000000001', domain: '4401000000', password: 'pw', transport: 'TCP',
        expires: 600, keepalive_interval: 30, keepalive_count: 5, charset: 'utf-8', time_zone: 'Europe/Berlin' },
      local: { sip_ip: '127.0.0.1', sip_port: 5070, contact_ip: '127.0.0.2', media_ip: '127.0.0.3', media_port_range: [40000, 40100] },
      sources: [{ url: 'rtsp://cam/1', channel_id: '34020000001320000011', rtsp_transport: 'udp', sub_url: 'rtsp://cam/2', record_dirs: ['/r'] }, { url: 'rtsp://cam/3' }],
      catalog_batch_size: 4, log_level: 'debug', ffmpeg_path: '/usr/bin/ffmpeg',
    });
    assert.equal(shape, 'gateway');
    assert.equal(config.platform.transport, 'tcp');
    assert.equal(config.platform.charset, 'UTF-8');
    assert.equal(config.platform.keepaliveCount, 5);
    assert.equal(config.platform.timeZone, 'Europe/Berlin');
    assert.deepEqual(config.local, { sipIp: '127.0.0.1', sipPort: 5070, contactIp: '127.0.0.2', mediaIp: '127.0.0.3', mediaPortRange: [40000, 40100] });
    assert.equal(config.sources[0].rtspTransport, 'udp');
    assert.deepEqual(config.sources[0].recordDirs, ['/r']);
    assert.equal(config.sources[1].channelId, '34020000001320000002', 'generated ID: device prefix, type 132, serial = position');
    assert.equal(config.catalogBatchSize, 4);
    assert.equal(config.logLevel, 'debug');
  });

  it('names an unknown key, wherever it is', () => {
    const p = problemsOf({ platform: { host: 'h', pasword: 'x' }, sources: [{ url: 'rtsp://a/b', nmae: 'x' }], extra: 1 });
    assert.ok(p.some((x) => x.startsWith('platform.pasword: unknown key')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('sources[0].nmae: unknown key')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('extra: unknown key')), p.join('\n'));
  });

  it('names every missing required value in one error', () => {
    const p = problemsOf({ platform: {}, sources: [{ name: 'no url' }, {}] });
    assert.ok(p.some((x) => x.startsWith('platform.host: missing')));
    assert.ok(p.some((x) => x.startsWith('sources[0].url: missing')));
    assert.ok(p.some((x) => x.startsWith('sources[1].url: missing')));
    assert.equal(p.length, 3, p.join('\n'));
    const seedMissing = problemsOf({ rtsp_sources: [{ name: 'x' }], wvp_server: {} });
    assert.deepEqual(seedMissing.map((x) => x.split(':')[0]), ['wvp_server.host', 'rtsp_sources[0].url']);
  });

  it('rejects wrong types, malformed IDs, ports and URLs with the key named', () => {
    const p = problemsOf({
      device: { id: '1234' },
      platform: { host: 'h', port: 70000, transport: 'sctp', charset: 'latin1', keepalive_interval: '60', time_zone: 'Mars/Base' },
      local: { media_port_range: [5000, 4000] },
      sources: [{ url: 'http://not-rtsp', channel_id: '3402000000132000000X' }],
    });
    for (const key of ['device.id', 'platform.port', 'platform.transport', 'platform.charset', 'platform.keepalive_interval', 'platform.time_zone', 'local.media_port_range', 'sources[0].url', 'sources[0].channel_id']) {
      assert.ok(p.some((x) => x.startsWith(`${key}:`)), `expected a problem for ${key} in:\n${p.join('\n')}`);
    }
  });

  it('rejects duplicate channel IDs and a channel that reuses the device ID', () => {
    const p = problemsOf({ platform: { host: 'h' }, sources: [
      { url: 'rtsp://a/1', channel_id: '34020000001320000001' }, { url: 'rtsp://a/2', channel_id: '34020000001320000001' },
      { url: 'rtsp://a/3', channel_id: '34020000001110000001' }] });
    assert.ok(p.some((x) => /sources\[1\].*already used/.test(x)));
    assert.ok(p.some((x) => /sources\[2\].*equals the device ID/.test(x)));
  });

  it('reports a JSON syntax error as a config error', () => {
    assert.throws(() => parseGatewayConfigText('{"platform": '), (e: unknown) => e instanceof ConfigError && /not valid JSON/.test(e.message));
    assert.throws(() => parseGatewayConfigText('[1,2]'), ConfigError);
  });

  it('maps the earlier Python gateway file and names every ignored key', () => {
    const { config, shape, ignoredKeys } = parseGatewayConfig(LEGACY);
    assert.equal(shape, 'legacy-python');
    assert.equal(config.device.id, '81000000465001000001');
    assert.equal(config.platform.password, 'admin123');
    assert.equal(config.platform.host, '192.168.1.200');
    assert.equal(config.local.sipIp, '192.168.1.50');
    assert.equal(config.local.sipPort, 5080);
    assert.equal(config.local.contactIp, '203.0.113.7');
    assert.equal(config.local.mediaIp, '203.0.113.7');
    assert.equal(config.sources.length, 2);
    assert.equal(config.sources[0].channelId, '81000000461320000001');
    assert.deepEqual(config.sources[0].recordDirs, ['./recordings']);
    assert.equal(config.sources[1].channelId, '81000000461310000002');
    for (const k of ['local_sip', 'srtp', 'pipeline', 'max_channels', 'wvp_compatibility', 'sip_settings.timeout', 'logging.console']) {
      assert.ok(ignoredKeys.includes(k), `ignored keys should name ${k}: ${ignoredKeys.join(', ')}`);
    }
  });

  it('prints the equivalent own-shape config, which loads back to the same config, with passwords masked', () => {
    const { config } = parseGatewayConfig(LEGACY);
    const own = toGatewayShape(config, { showSecrets: true });
    const again = parseGatewayConfig(JSON.parse(JSON.stringify(own)));
    assert.equal(again.shape, 'gateway');
    assert.deepEqual(JSON.parse(JSON.stringify(again.config)), JSON.parse(JSON.stringify(config)));
    const masked = JSON.stringify(toGatewayShape(config));
    assert.ok(!masked.includes('admin123') && !masked.includes('"pw"'), masked);
  });
});
