/** Starts a GbDevice against a RawSipPlatform and gives the test a few request helpers. */
import { GbDevice, GbDeviceOptions } from '../../lib/device/gb-device';
import { ChannelDescriptor } from '../../lib/session/stream-contract';
import { channels, deviceConfig, DEVICE_ID, localConfig, platformConfig } from './device-fixture';
import { FakeStreamHandler } from './fake-stream-handler';
import { header, RawMessage, RawSipPlatform } from './raw-sip-platform';

export interface Harness {
  platform: RawSipPlatform;
  device: GbDevice;
  handler: FakeStreamHandler;
  deviceUri: string;
  close(): Promise<void>;
  /** Sends raw bytes to the device (from the platform's socket) and waits for the final response with this Call-ID. */
  ask(data: Buffer, callId: string, timeoutMs?: number): Promise<RawMessage>;
}

export async function startHarness(opts: { tcp?: boolean; platform?: Parameters<typeof platformConfig>[1]; device?: Partial<GbDeviceOptions>; channels?: ChannelDescriptor[] } = {}): Promise<Harness> {
  const platform = new RawSipPlatform();
  await platform.start(0, opts.tcp);
  platform.registrar = { password: '12345678' };
  const handler = new FakeStreamHandler();
  const device = new GbDevice({
    device: deviceConfig(),
    platform: platformConfig(platform.port, { transport: opts.tcp ? 'tcp' : 'udp', ...opts.platform }),
    local: localConfig(),
    streamHandler: handler,
    answerDelayMs: 30,
    registration: { requestTimeoutMs: 1500, backoffMinMs: 300, backoffMaxMs: 2000 },
    ...opts.device,
  });
  device.setChannels(opts.channels ?? channels(20));
  const registered = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('device did not register')), 5000);
    device.once('registered', () => {
      clearTimeout(t);
      resolve();
    });
  });
  await device.start();
  await registered;
  const devicePort = device.localSipPort();
  const regMsg = platform.received.find((m) => m.method === 'REGISTER');
  const tcpSocket = regMsg?.from.tcp;
  const h: Harness = {
    platform,
    device,
    handler,
    deviceUri: `sip:${DEVICE_ID}@127.0.0.1:${devicePort}`,
    async close() {
      await device.stop();
      await platform.close();
    },
    ask(data, callId, timeoutMs = 2000) {
      const since = platform.received.length;
      const p = platform.waitFor((m) => m.status !== undefined && m.status >= 200 && header(m, 'call-id') === callId, timeoutMs, since);
      platform.sendTo(data, tcpSocket ? { address: '127.0.0.1', port: devicePort, tcp: tcpSocket } : { address: '127.0.0.1', port: devicePort });
      return p;
    },
  };
  return h;
}
