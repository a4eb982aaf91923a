/**
 * gb28181-device: one GB28181 device (a gateway/NVR) with a channel per rtsp-source wired into it.
 * Owns one GbDevice (registration, keepalive, queries, DeviceControl, INVITE dialogs). Media is
 * another node's job: its StreamHandler is a FlowStreamBridge that sends stream requests out of
 * output 1 and waits, bounded, for a ps-rtp-sender to answer through `answerInvite()`.
 * Output 2 carries registration state, catalog changes and DeviceControl (PTZ…).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { LocalConfig } from '../lib/config/gateway-config';
import { AlarmDelivery, DeviceAlarm, DeviceControlEvent, GbDevice } from '../lib/device/gb-device';
import { resolveAnnouncedAddresses } from '../lib/net/route-address';
import { ChannelMessage, isRecord, PlaybackControlMessage, readChannelMessage, readPlaybackCommand, RegistrationMessage, StreamRequestMessage } from '../lib/node-glue/flow-messages';
import { FlowStreamBridge } from '../lib/node-glue/flow-stream-bridge';
import { DeviceNodeApi, isRegisterNodeApi, isSourceNodeApi, RegisterNodeApi } from '../lib/node-glue/node-contracts';
import { nodeLogger } from '../lib/node-glue/node-logger';
import { AlarmEventMessage, AlarmResetMessage, GuardMessage, readAlarmInput } from '../lib/node-glue/alarm-message';
import { localText } from '../lib/node-glue/localised-text';
import { readDeviceSettings, shortStatus } from '../lib/node-glue/node-settings';

type Gb28181DeviceNode = Node & DeviceNodeApi;

type DeviceDef = NodeDef & Record<string, unknown>;

type Tr = (key: string, fallback: string, vars?: Record<string, string | number>) => string;

function failureText(tr: Tr, reason: string, status?: number): string {
  if (status === 403 || status === 401) return tr('wrongPassword', '__status__ wrong password', { status });
  if (status === 404) return tr('unknownDevice', '404 device unknown to the platform');
  if (status) return `${status} ${reason}`;
  if (/no answer/.test(reason)) return tr('noAnswer', 'no answer from the platform');
  return reason;
}

export = function register(RED: NodeAPI): void {
  function Gb28181Device(this: Gb28181DeviceNode, def: DeviceDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED calls the constructor with `this` = the node; the handlers below close over it.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const logger = nodeLogger(node);
    const tr: Tr = (key, fallback, vars) => localText(RED._, `gb28181-device.status.${key}`, fallback, vars);
    const { device: deviceConfig, problems } = readDeviceSettings(def);
    const found: unknown = typeof def.platform === 'string' && def.platform ? RED.nodes.getNode(def.platform) : null;
    const registerNode = isRegisterNodeApi(found) ? (found as RegisterNodeApi & Node) : null;
    const claimTimeoutMs = Math.max(500, Number(def.claimTimeout ?? 5) * 1000 || 5000);
    const sourceOf = new Map<string, string>();
    let device: GbDevice | undefined;
    let bridge: FlowStreamBridge | undefined;
    let media: { localIp: string; portRange: [number, number] } | undefined;
    let closing = false;
    let lastFailure: { reason: string; status?: number } | undefined;
    let platformLabel = '';

    node.claimInvite = (callId) => bridge?.claim(callId) ?? false;
    node.answerInvite = (callId, answer) => {
      const taken = bridge?.answer(callId, answer) ?? false;
      setImmediate(updateStatus);
      return taken;
    };
    node.endSession = async (callId, reason) => {
      await device?.endSession(callId, reason);
      updateStatus();
    };
    node.mediaEndpoint = () => media;
    node.mediaStatus = async (callId, notifyType = 121) => {
      if (!device) throw new Error('the device is not running');
      await device.sendMediaStatus(callId, notifyType);
    };
    /** The rtsp-source of a channel (recordings): the one whose channel messages came here, else found by channel ID. */
    const sourceNode = (channelId: string) => {
      let id = sourceOf.get(channelId);
      if (!id) {
        RED.nodes.eachNode((n) => {
          if (!id && n.type === 'rtsp-source' && (n as unknown as Record<string, unknown>).channelId === channelId) id = n.id;
        });
      }
      const found: unknown = id ? RED.nodes.getNode(id) : null;
      return isSourceNodeApi(found) ? found : undefined;
    };
    const closingWatchers = new Set<(callId: string, reason: string) => void>();
    node.watchClosing = (listener) => {
      closingWatchers.add(listener);
      return () => closingWatchers.delete(listener);
    };

    const fail = (text: string, detail = text) => {
      node.status({ fill: 'red', shape: 'ring', text: shortStatus(text) });
      node.error(detail);
    };

    function updateStatus(): void {
      if (!device || closing || device.state === 'idle') return;
      const ch = device.channels().length;
      const live = bridge?.liveCount() ?? 0;
      switch (device.state) {
        case 'registered':
          node.status({ fill: 'green', shape: 'dot', text: tr('registered', 'registered · __ch__ ch · __live__ live', { ch, live }) });
          break;
        case 'failed':
          node.status({ fill: 'red', shape: 'ring', text: shortStatus(failureText(tr, lastFailure?.reason ?? device.lastFailure ?? 'failed', lastFailure?.status)) });
          break;
        case 'registering':
          node.status({ fill: 'yellow', shape: 'ring', text: shortStatus(tr('registering', 'registering with __platform__…', { platform: platformLabel })) });
          break;
        default:
          node.status({ fill: 'grey', shape: 'ring', text: device.state });
      }
    }

    const sendEvent = (msg: NodeMessage) => node.send([null, msg]);
    const registrationMessage = (): RegistrationMessage => ({
      deviceId: deviceConfig.id,
      platformId: registerNode?.settings().platform.id ?? '',
      platform: platformLabel,
      state: device?.state ?? 'idle',
      ...(device?.state === 'failed' && lastFailure ? { reason: lastFailure.reason, ...(lastFailure.status ? { status: lastFailure.status } : {}) } : {}),
      channels: device?.channels().length ?? 0,
      live: bridge?.liveCount() ?? 0,
    });
    const announceRegistration = () => {
      updateStatus();
      if (!closing) sendEvent({ topic: 'registration', payload: registrationMessage() });
    };

    if (problems.length) {
      fail(problems[0], `invalid configuration: ${problems.join('; ')}`);
      return;
    }
    if (!registerNode) {
      fail('no wvp-register selected: choose the platform connection in the node');
      return;
    }
    const reg = registerNode.settings();
    if (reg.problems.length) {
      fail(`wvp-register: ${reg.problems[0]}`, `wvp-register "${registerNode.name || registerNode.id}": ${reg.problems.join('; ')}`);
      return;
    }
    platformLabel = registerNode.label();

    const starting = (async () => {
      // Bound to every interface: announce the address the platform's packets arrive on (as lib/gateway does).
      const local: LocalConfig = await resolveAnnouncedAddresses(reg.local, reg.platform.host, reg.platform.port);
      media = { localIp: local.mediaIp, portRange: local.mediaPortRange };
      if (closing) return;
      bridge = new FlowStreamBridge({
        deviceNodeId: node.id,
        claimTimeoutMs,
        answerTimeoutMs: 9000,
        sourceNodeOf: (channelId) => sourceOf.get(channelId),
        send: (m: StreamRequestMessage) => {
          if (closing) return;
          node.send([{ topic: m.event, payload: m }, null]);
          if (m.event !== 'invite') setImmediate(updateStatus);
        },
      });
      device = new GbDevice({
        device: deviceConfig,
        platform: reg.platform,
        alarmsAsMessage: reg.platform.alarmsAsMessage,
        local,
        logger,
        streamHandler: bridge,
        // Above the bridge's own bounds, so the bridge's clearer reason reaches the platform.
        inviteTimeoutMs: claimTimeoutMs + 10000,
        catalogBatchSize: Number(def.catalogBatchSize) || undefined,
        // RecordInfo and RecordCmd from the archives and recorders of the wired rtsp-sources (issue #7).
        recordQuery: (channelId, startMs, endMs) => sourceNode(channelId)?.recordQuery?.(startMs, endMs, reg.platform.timeZone) ?? Promise.resolve([]),
        recordCommand: (channelId, action) => {
          const source = sourceNode(channelId);
          if (!source?.recordCommand) return Promise.reject(new Error(`no rtsp-source for channel ${channelId}`));
          return source.recordCommand(action);
        },
        recording: (channelId) => sourceNode(channelId)?.isRecording?.() ?? false,
        // PresetQuery from the camera's own presets over ONVIF (issue #8).
        presetQuery: (channelId) => sourceNode(channelId)?.presets?.() ?? Promise.resolve([]),
      });
      device.on('registering', announceRegistration);
      device.on('registered', () => {
        lastFailure = undefined;
        announceRegistration();
      });
      device.on('failed', (reason: string, status?: number) => {
        lastFailure = { reason, status };
        announceRegistration();
      });
      device.on('unregistered', announceRegistration);
      device.on('control', (ev: DeviceControlEvent) => sendEvent({ topic: 'control', payload: ev }));
      // Alarms (issue #8): what left the device, and the platform's reset and guard commands.
      device.on('alarm', (alarm: DeviceAlarm, delivery: AlarmDelivery) => sendEvent({ topic: 'alarm', payload: { ...alarm, delivery } satisfies AlarmEventMessage }));
      device.on('alarm-reset', (channelId: string) => sendEvent({ topic: 'alarm-reset', payload: { deviceId: deviceConfig.id, channelId } satisfies AlarmResetMessage }));
      device.on('guard', (targetId: string, action: 'set' | 'reset') => sendEvent({ topic: 'guard', payload: { deviceId: deviceConfig.id, targetId, action } satisfies GuardMessage }));
      // MANSRTSP of a Playback/Download dialog goes to the senders (output 1): the one serving the call applies it.
      device.on('playback-control', (callId: string, cmd: unknown) => {
        const command = readPlaybackCommand(cmd);
        if (!command || closing) return;
        const m: PlaybackControlMessage = { event: 'playback-control', callId, deviceNodeId: node.id, channelId: bridge?.channelOf(callId) ?? '', command };
        node.send([{ topic: 'playback-control', payload: m }, null]);
      });
    })();
    // WVP reads the catalog right after a registration: register once the cameras wired straight into
    // this node have reported (probed online or offline), or after a bound, so the first catalog is complete.
    const wiredSources = new Set<string>();
    RED.nodes.eachNode((n) => {
      const wires = (n as unknown as { wires?: unknown }).wires;
      if (n.type === 'rtsp-source' && Array.isArray(wires) && wires.some((port) => Array.isArray(port) && port.includes(node.id))) wiredSources.add(n.id);
    });
    let sourcesReported: () => void = () => undefined;
    const allReported = new Promise<void>((resolve) => {
      sourcesReported = resolve;
      if (!wiredSources.size) resolve();
    });
    const waitBound = Math.max(0, Number(def.waitForCameras ?? 8) * 1000);
    let waitTimer: NodeJS.Timeout | undefined;
    const started = starting.then(async () => {
      // Sources that probed before this node (re)started (a deploy of the device alone) will not send
      // again until their state changes: read what they last found.
      for (const id of [...wiredSources]) {
        const found: unknown = RED.nodes.getNode(id);
        const last = isSourceNodeApi(found) ? found.channelMessage() : undefined;
        if (last) applyChannel(last);
      }
      await Promise.race([allReported, new Promise<void>((r) => (waitTimer = setTimeout(r, waitBound)))]);
      clearTimeout(waitTimer);
      if (closing || !device) return;
      await device.start();
      updateStatus();
    });
    started.catch((e: unknown) => {
      if (!closing) fail(`cannot start: ${(e as Error).message}`);
    });
    if (wiredSources.size) node.status({ fill: 'yellow', shape: 'ring', text: tr('waiting', 'waiting for cameras (__n__)…', { n: wiredSources.size }) });

    /** A channel message (from a wire, or read from a wired rtsp-source at start) into the catalog. */
    function applyChannel(ch: ChannelMessage): void {
      if (!device) return;
      if (ch.sourceNodeId) {
        sourceOf.set(ch.channelId, ch.sourceNodeId);
        wiredSources.delete(ch.sourceNodeId);
        if (!wiredSources.size) sourcesReported();
      }
      device.upsertChannel({
        id: ch.channelId,
        name: ch.name,
        online: ch.online,
        ...(!ch.online && ch.offlineCause ? { offlineCause: ch.offlineCause } : {}),
        ptzType: ch.ptzType ?? 3,
        ...(ch.manufacturer ? { manufacturer: ch.manufacturer } : {}),
        ...(ch.model ? { model: ch.model } : {}),
        ...(ch.video ? { video: ch.video } : {}),
        ...(ch.hasAudio !== undefined ? { hasAudio: ch.hasAudio } : {}),
      });
      // Catalog in channel-ID order, not in the order the probes happened to finish.
      device.setChannels(device.channels().sort((a, b) => a.id.localeCompare(b.id)));
      updateStatus();
      // Catalog change for a health monitor wired to output 2.
      sendEvent({ topic: 'channel', payload: ch });
    }

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      void starting.catch(() => undefined).then(() => {
        if (!device) {
          done(new Error('the device is not running (see its status)'));
          return;
        }
        const payload: unknown = msg.payload;
        if (msg.topic === 'remove') {
          const id = typeof payload === 'string' ? payload : isRecord(payload) && typeof payload.channelId === 'string' ? payload.channelId : '';
          if (!id) return done(new Error('remove: msg.payload must be the channel ID or {channelId}'));
          device.removeChannel(id);
          sourceOf.delete(id);
          updateStatus();
          return done();
        }
        if (msg.topic === 'alarm') {
          const d = device;
          const read = readAlarmInput(payload, deviceConfig.id, (id) => id === deviceConfig.id || d.channels().some((c) => c.id === id));
          if (!read.ok) return done(new Error(`alarm: ${read.problem}`));
          d.raiseAlarm(read.alarm).then(
            (delivery) => done(delivery === 'not-sent' ? new Error(`alarm on ${read.alarm.channelId} not sent: the device is not registered with the platform`) : undefined),
            (e: unknown) => done(new Error(`alarm: ${(e as Error).message}`)),
          );
          return;
        }
        if (msg.topic !== 'channel') return done(new Error(`unknown msg.topic "${String(msg.topic)}": expected "channel" (from an rtsp-source), "remove" or "alarm"`));
        const read = readChannelMessage(payload);
        if (!read.ok) return done(new Error(`channel message: ${read.problem}`));
        applyChannel(read.channel);
        done();
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      // Senders stop their sessions now: the BYE that device.stop() sends cannot reach them as a message.
      for (const callId of bridge?.liveCalls() ?? []) {
        for (const w of closingWatchers) {
          try {
            w(callId, 'the gb28181-device node closed');
          } catch (e) {
            node.warn(`closing ${callId}: ${(e as Error).message}`);
          }
        }
      }
      closingWatchers.clear();
      bridge?.close();
      clearTimeout(waitTimer);
      sourcesReported();
      void started.catch(() => undefined).then(async () => {
        try {
          await device?.stop();
        } catch (e) {
          node.warn(`stop: ${(e as Error).message}`);
        }
        node.status({});
        done();
      });
    });
  }
  RED.nodes.registerType('gb28181-device', Gb28181Device);
};
