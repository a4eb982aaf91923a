/**
 * ps-rtp-sender: the media half in a flow. Takes the invite/ack/bye messages of a gb28181-device,
 * and for each device owns one MediaService (RTSP in, MPEG-PS over RTP out) whose sources are the
 * rtsp-source nodes of the channels. On invite it prepares (binds/listens, camera reachable) and
 * answers the device node, so the device's 200 OK carries this node's port; ack starts sending;
 * bye stops. Output: session events, camera feed states and periodic stats for a health-monitor.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { GatewayError } from '../lib/errors';
import { MediaService } from '../lib/media/media-service';
import { SourceStats } from '../lib/media/media-source';
import { TranscodeOptions } from '../lib/media/rtsp-ingest';
import { InviteMessage, readStreamRequestMessage, SessionEventMessage } from '../lib/node-glue/flow-messages';
import { joinSharedFeedPool } from '../lib/node-glue/shared-feed-pool';
import { PlaybackSource } from '../lib/record/playback-source';
import { applyPlaybackControl } from '../lib/record/playback-request';
import { DeviceNodeApi, isDeviceNodeApi, isSourceNodeApi } from '../lib/node-glue/node-contracts';
import { nodeLogger } from '../lib/node-glue/node-logger';
import { localText } from '../lib/node-glue/localised-text';
import { shortStatus } from '../lib/node-glue/node-settings';

type SenderDef = NodeDef & Record<string, unknown>;

interface CallRecord {
  deviceNodeId: string;
  channelId: string;
  abort: AbortController;
  answered: boolean;
}

function transcodeOf(v: unknown): TranscodeOptions | undefined {
  if (v === 'video') return { video: true };
  if (v === 'audio') return { audio: true };
  if (v === 'both') return { video: true, audio: true };
  return undefined;
}

function formatRate(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

export = function register(RED: NodeAPI): void {
  function PsRtpSender(this: Node, def: SenderDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED calls the constructor with `this` = the node; the handlers below close over it.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const logger = nodeLogger(node);
    const tr = (key: string, fallback: string, vars?: Record<string, string | number>) => localText(RED._, `ps-rtp-sender.status.${key}`, fallback, vars);
    const problems: string[] = [];
    const maxRtpPayload = Number(def.maxRtpPayload || 1388);
    if (!Number.isInteger(maxRtpPayload) || maxRtpPayload < 188 || maxRtpPayload > 65000) problems.push(`max RTP payload must be 188-65000 bytes (got ${String(def.maxRtpPayload)})`);
    const keepWarmS = Number(def.keepWarm ?? 15);
    if (!Number.isFinite(keepWarmS) || keepWarmS < 0) problems.push(`keep warm must be 0 or more seconds (got ${String(def.keepWarm)})`);
    const statsMs = Math.max(1000, Number(def.statsInterval ?? 5) * 1000 || 5000);
    const gopCache = def.gopCache !== false && def.gopCache !== 'false';
    const transcode = transcodeOf(def.transcode);
    const services = new Map<string, MediaService>();
    const calls = new Map<string, CallRecord>();
    const channelSource = new Map<string, string>();
    const latestStats = new Map<string, SourceStats>();
    let closing = false;
    // Cameras are pulled from the runtime's shared pool, so an rtsp-source's recorder uses the same RTSP pull.
    const feedPool = joinSharedFeedPool(RED.events, { gopCache, keepWarmMs: Number.isFinite(keepWarmS) ? Math.max(0, keepWarmS) * 1000 : 15000, ...(transcode ? { transcode } : {}) }, logger);
    /** Playback/Download readers by call, so MANSRTSP (playback-control messages) reaches them. */
    const playbacks = new Map<string, PlaybackSource>();

    const emit = (topic: string, payload: unknown) => {
      if (!closing) node.send({ topic, payload });
    };
    const sessionEvent = (e: SessionEventMessage) => emit('session', e);

    const updateStatus = () => {
      if (closing) return;
      const live = [...calls.values()].filter((c) => c.answered).length;
      const rate = [...latestStats.values()].reduce((a, s) => a + (s.state === 'online' ? s.bitrate : 0), 0);
      if (!live) node.status({ fill: 'grey', shape: 'dot', text: tr('idle', 'idle') });
      else node.status({ fill: 'green', shape: 'dot', text: shortStatus(`${tr('sessions', '__n__ live', { n: live })}${rate ? ` · ${formatRate(rate)}` : ''}`) });
    };

    if (problems.length) {
      node.status({ fill: 'red', shape: 'ring', text: shortStatus(problems[0]) });
      node.error(`invalid configuration: ${problems.join('; ')}`);
    } else updateStatus();

    /** The rtsp-source node of a channel: named by the device, else found by its channel ID. */
    const sourceNodeFor = (channelId: string) => {
      let id = channelSource.get(channelId);
      if (!id) {
        RED.nodes.eachNode((n) => {
          if (!id && n.type === 'rtsp-source' && (n as unknown as Record<string, unknown>).channelId === channelId) id = n.id;
        });
      }
      const found: unknown = id ? RED.nodes.getNode(id) : null;
      return isSourceNodeApi(found) ? found : undefined;
    };

    const deviceNode = (id: string): DeviceNodeApi | undefined => {
      const found: unknown = RED.nodes.getNode(id);
      return isDeviceNodeApi(found) ? found : undefined;
    };

    const watched = new WeakSet<object>();
    const unwatch: Array<() => void> = [];
    const endpoints = new Map<string, string>();

    /** Stops our sessions of a device node that is closing (redeploy of the device alone). */
    const watchDevice = (device: DeviceNodeApi) => {
      if (watched.has(device)) return;
      watched.add(device);
      unwatch.push(device.watchClosing((callId, reason) => {
        const call = calls.get(callId);
        if (!call) return;
        calls.delete(callId);
        call.abort.abort();
        services.get(call.deviceNodeId)?.stop(callId, reason);
        sessionEvent({ event: 'stopped', callId, channelId: call.channelId, deviceNodeId: call.deviceNodeId, reason });
        updateStatus();
      }));
    };

    const serviceFor = (deviceNodeId: string, device: DeviceNodeApi): MediaService => {
      const endpoint = device.mediaEndpoint();
      if (!endpoint) throw new GatewayError('FLOW_DEVICE_NOT_READY', 'the gb28181-device has not started yet', { sipStatus: 503 });
      let svc = services.get(deviceNodeId);
      // A redeployed device may announce another media address or port range: start afresh when idle.
      if (svc && endpoints.get(deviceNodeId) !== JSON.stringify(endpoint) && svc.sessionStats().length === 0) {
        void svc.close();
        services.delete(deviceNodeId);
        svc = undefined;
      }
      if (svc) return svc;
      endpoints.set(deviceNodeId, JSON.stringify(endpoint));
      svc = new MediaService({
        localIp: endpoint.localIp,
        portRange: endpoint.portRange,
        logger,
        maxRtpPayload,
        gopCache,
        keepWarmMs: keepWarmS * 1000,
        // Below the device's answer bound (bridge 9 s): an unreachable camera is answered 480, not a timeout.
        prepareWaitMs: 6000,
        resolveSource: (channelId, streamNumber) => sourceNodeFor(channelId)?.mediaSource(streamNumber, transcode),
        feedPool: feedPool.pool,
        // Playback/Download from the archive of the channel's rtsp-source (undefined → 404).
        openRecording: (request) => {
          const reader = sourceNodeFor(request.channelId)?.openPlayback?.(request);
          if (!reader) return undefined;
          playbacks.set(request.callId, reader);
          reader.once('end', () => {
            if (playbacks.get(request.callId) === reader) playbacks.delete(request.callId);
          });
          return reader;
        },
      });
      // End of the range: the device tells the platform (MediaStatus 121, GB28181-2016 §9.7.3); the platform BYEs.
      svc.on('playback-ended', (callId) => {
        const call = calls.get(callId);
        const device = call ? deviceNode(call.deviceNodeId) : undefined;
        if (!device?.mediaStatus) return;
        device.mediaStatus(callId, 121).catch((e: unknown) => logger.warn(`MediaStatus for ${callId} failed: ${(e as Error).message}`, { callId }));
      });
      svc.on('session-ended', (callId, reason) => {
        const call = calls.get(callId);
        calls.delete(callId);
        if (!call) return;
        sessionEvent({ event: 'ended', callId, channelId: call.channelId, deviceNodeId: call.deviceNodeId, reason });
        updateStatus();
        void deviceNode(call.deviceNodeId)?.endSession(callId, reason).catch((e: unknown) => logger.warn(`BYE for ${callId} failed: ${(e as Error).message}`, { callId }));
      });
      svc.on('source-state', (key, state, reason) => {
        emit('source-state', { key, channelId: key.split('/')[0], state, ...(reason ? { reason } : {}) });
        if (state !== 'online') latestStats.delete(key);
      });
      svc.on('stats', (s) => latestStats.set(s.key, s));
      services.set(deviceNodeId, svc);
      return svc;
    };

    const onInvite = async (m: InviteMessage): Promise<void> => {
      const device = deviceNode(m.deviceNodeId);
      if (!device) throw new Error(`invite ${m.callId}: no gb28181-device node ${m.deviceNodeId} (messages must come from a device's output 1)`);
      if (!device.claimInvite(m.callId)) {
        // Another sender took it, or the device already answered the platform (claim bound passed).
        logger.debug(`invite ${m.callId} not taken: another sender has it or the device stopped waiting`, { callId: m.callId });
        return;
      }
      if (m.sourceNodeId) channelSource.set(m.channelId, m.sourceNodeId);
      watchDevice(device);
      const call: CallRecord = { deviceNodeId: m.deviceNodeId, channelId: m.channelId, abort: new AbortController(), answered: false };
      calls.set(m.callId, call);
      try {
        if (problems.length) throw new GatewayError('FLOW_SENDER_INVALID', `ps-rtp-sender configuration: ${problems[0]}`, { sipStatus: 500 });
        const svc = serviceFor(m.deviceNodeId, device);
        const answer = await svc.prepare({
          callId: m.callId, deviceId: m.deviceId, channelId: m.channelId, sessionType: m.sessionType, transport: m.transport,
          remoteIp: m.remoteIp, remotePort: m.remotePort, ssrc: m.ssrc, payloadType: m.payloadType, streamNumber: m.streamNumber,
          ...(m.startTime !== undefined ? { startTime: m.startTime } : {}),
          ...(m.endTime !== undefined ? { endTime: m.endTime } : {}),
          ...(m.downloadSpeed !== undefined ? { downloadSpeed: m.downloadSpeed } : {}),
        }, call.abort.signal);
        if (calls.get(m.callId) !== call) {
          svc.stop(m.callId, 'ended while preparing');
          return;
        }
        if (!device.answerInvite(m.callId, { ok: true, ...answer })) {
          calls.delete(m.callId);
          svc.stop(m.callId, 'the device no longer waits for this call');
          return;
        }
        call.answered = true;
        const destination = svc.session(m.callId)?.stats().destination;
        sessionEvent({ event: 'prepared', callId: m.callId, channelId: m.channelId, deviceNodeId: m.deviceNodeId, transport: m.transport, localPort: answer.localPort, ...(destination ? { destination } : {}) });
        updateStatus();
      } catch (e) {
        calls.delete(m.callId);
        const status = e instanceof GatewayError && typeof e.context.sipStatus === 'number' ? e.context.sipStatus : 500;
        const reason = (e as Error).message;
        device.answerInvite(m.callId, { ok: false, reason, sipStatus: status });
        sessionEvent({ event: 'failed', callId: m.callId, channelId: m.channelId, deviceNodeId: m.deviceNodeId, reason });
        logger.warn(`INVITE ${m.callId} for ${m.channelId} failed: ${reason}`, { callId: m.callId, channelId: m.channelId });
      }
    };

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const m = readStreamRequestMessage(msg.payload);
      if (!m) {
        done(new Error('expected an invite/ack/bye message from a gb28181-device (output 1)'));
        return;
      }
      if (m.event === 'invite') {
        onInvite(m).then(() => done(), (e: unknown) => done(e as Error));
        return;
      }
      const call = calls.get(m.callId);
      const svc = services.get(m.deviceNodeId);
      if (m.event === 'playback-control') {
        // Every sender wired to the device gets it: the one serving the call acts.
        const reader = call ? playbacks.get(m.callId) : undefined;
        if (reader) applyPlaybackControl(reader, m.command);
      } else if (m.event === 'ack') {
        if (call && svc) {
          svc.start(m.callId);
          sessionEvent({ event: 'started', callId: m.callId, channelId: call.channelId, deviceNodeId: m.deviceNodeId });
        }
      } else {
        if (call) {
          calls.delete(m.callId);
          call.abort.abort();
          svc?.stop(m.callId, m.reason);
          sessionEvent({ event: 'stopped', callId: m.callId, channelId: call.channelId, deviceNodeId: m.deviceNodeId, reason: m.reason });
        }
        updateStatus();
      }
      done();
    });

    const statsTimer = setInterval(() => {
      if (!services.size) return;
      const sessions = [...services.values()].flatMap((s) => s.sessionStats());
      emit('stats', { sources: [...latestStats.values()], sessions, complete: true });
      updateStatus();
    }, statsMs);

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      clearInterval(statsTimer);
      for (const u of unwatch) u();
      // Redeploy of the sender alone: the device must end these calls with the platform (BYE),
      // or the platform would keep a dialog without media.
      const ending: Array<Promise<void>> = [];
      for (const [callId, c] of calls) {
        c.abort.abort();
        if (!c.answered) continue;
        const device = deviceNode(c.deviceNodeId);
        if (device) ending.push(device.endSession(callId, 'the ps-rtp-sender node closed').catch(() => undefined));
      }
      calls.clear();
      const all = [...services.values()];
      services.clear();
      playbacks.clear();
      const bound = new Promise<void>((r) => setTimeout(r, 3000).unref());
      void Promise.race([Promise.all(ending), bound])
        .then(() => Promise.all(all.map((s) => s.close().catch((e: unknown) => node.warn(`media close: ${(e as Error).message}`)))))
        .then(() => {
        feedPool.leave();
        node.status({});
        done();
      });
    });
  }
  RED.nodes.registerType('ps-rtp-sender', PsRtpSender);
};
