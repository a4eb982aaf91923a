/**
 * What the demo's platform does on its own, so `npm start` shows a live stream without a real WVP:
 * when the device registers, read its catalog, INVITE the first camera channel over UDP and log the
 * media it receives every 10 s. A re-registration starts over. Alarms and catalog changes the device
 * pushes are logged; with `subscribe` the platform also SUBSCRIBEs to Catalog and Alarm as WVP can.
 */
import { CatalogNotification, InviteSession, PlatformAlarm, PlatformEmulator, RegisteredDevice } from './platform-emulator';

export interface DemoPlatformScriptOptions {
  deviceId: string;
  log: (line: string) => void;
  /** Seconds between media reports (default 10). */
  reportEverySeconds?: number;
  /** SUBSCRIBE to Catalog and Alarm after the catalog query, refreshed automatically (default off). */
  subscribe?: { expires?: number };
  /**
   * After the stream starts, press WVP's "right" arrow on the first camera for a second (its PTZ
   * panel, default zoom speed included), release it, and list the camera's presets (default off).
   */
  exercisePtz?: boolean;
}

export interface DemoPlatformScript {
  stop(): Promise<void>;
}

export function startDemoPlatformScript(platform: PlatformEmulator, options: DemoPlatformScriptOptions): DemoPlatformScript {
  let session: InviteSession | undefined;
  let stopped = false;
  const report = setInterval(() => {
    if (!session || session.isEnded) return;
    options.log(`media from ${session.channelId}: ${session.packets.length} RTP packets, ${session.psBytes} PS bytes`);
  }, (options.reportEverySeconds ?? 10) * 1000);
  report.unref();

  const play = async (dev: RegisteredDevice): Promise<void> => {
    options.log(`device ${dev.deviceId} registered from ${dev.address}:${dev.port} (${dev.transport})`);
    const catalog = await platform.queryCatalog(dev.deviceId);
    options.log(`catalog: ${catalog.items.map((i) => `${i.DeviceID} ${i.Name ?? ''} ${i.Status ?? ''}`).join('; ') || 'empty'}`);
    const channel = catalog.items.find((i) => /^\d{20}$/.test(i.DeviceID ?? '') && (i.DeviceID ?? '').substring(10, 13) === '132')
      ?? catalog.items.find((i) => /^\d{20}$/.test(i.DeviceID ?? ''));
    if (options.subscribe && !stopped) subscribeAll(dev.deviceId);
    if (!channel || stopped) return;
    if (session && !session.isEnded) await session.bye().catch(() => undefined);
    session = await platform.invite(dev.deviceId, channel.DeviceID, { transport: 'udp' });
    options.log(`playing ${channel.DeviceID} (ssrc ${session.ssrc}, call ${session.callId})`);
    session.once('bye', () => options.log(`device ended the stream of ${channel.DeviceID}`));
    if (options.exercisePtz) await exercisePtz(dev.deviceId, channel.DeviceID ?? '');
  };

  const exercisePtz = async (deviceId: string, channelId: string): Promise<void> => {
    const right = await platform.ptz(deviceId, channelId, 'right');
    options.log(`PTZ right on ${channelId}: ${right.status}`);
    await new Promise((r) => setTimeout(r, 1000));
    const stop = await platform.ptzStop(deviceId, channelId);
    options.log(`PTZ stop on ${channelId}: ${stop.status}`);
    const presets = await platform.queryPresets(deviceId, channelId);
    options.log(`presets of ${channelId}: ${presets.presets.map((p) => `${p.presetId} ${p.name}`).join(', ') || 'none'}`);
  };

  const subscribeAll = (deviceId: string): void => {
    for (const kind of ['Catalog', 'Alarm'] as const) {
      platform.subscribe(deviceId, kind, { expires: options.subscribe?.expires ?? 3600, autoRefresh: true })
        .then((sub) => options.log(`${kind} subscription: ${sub.status} ${sub.state}`))
        .catch((e: unknown) => options.log(`${kind} subscription failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  const onAlarm = (a: PlatformAlarm): void => {
    if (a.deviceId !== options.deviceId) return;
    options.log(`alarm from ${a.channelId} via ${a.via}: priority ${a.priority ?? '?'} method ${a.method ?? '?'} type ${a.type ?? '-'} "${a.description}" at ${a.time}`);
  };
  const onCatalogNotify = (n: CatalogNotification): void => {
    if (n.deviceId !== options.deviceId) return;
    options.log(`catalog change: ${n.changes.map((c) => `${c.channelId} ${c.event}`).join(', ') || 'none'}`);
  };

  const onRegister = (dev: RegisteredDevice): void => {
    if (dev.deviceId !== options.deviceId || stopped) return;
    play(dev).catch((e: unknown) => options.log(`demo platform: ${e instanceof Error ? e.message : String(e)}`));
  };
  const onUnregister = (dev: RegisteredDevice): void => {
    if (dev.deviceId === options.deviceId) options.log(`device ${dev.deviceId} unregistered`);
  };
  platform.on('register', onRegister);
  platform.on('unregister', onUnregister);
  platform.on('alarm', onAlarm);
  platform.on('catalog-notify', onCatalogNotify);

  return {
    async stop() {
      stopped = true;
      clearInterval(report);
      platform.off('register', onRegister);
      platform.off('unregister', onUnregister);
      platform.off('alarm', onAlarm);
      platform.off('catalog-notify', onCatalogNotify);
      for (const sub of platform.subscriptions(options.deviceId)) if (sub.state === 'active') await sub.unsubscribe().catch(() => undefined);
      if (session && !session.isEnded) await session.bye().catch(() => undefined);
    },
  };
}
