/**
 * rtsp-source: one camera. Probes it with ffprobe on deploy and on `probe`/`reconnect`, and sends
 * a channel message (codec, resolution, online, its own node id) into a gb28181-device; again
 * whenever what it found changes. While online, a cheap RTSP OPTIONS check every `healthInterval`
 * seconds notices a camera that dies while nobody watches it (issue #8). Media never leaves this node over a wire: a ps-rtp-sender asks
 * it for the URL with credentials through `mediaSource()` (RED.nodes.getNode).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { GatewayError } from '../lib/errors';
import { FfProbe } from '../lib/media/ff-probe';
import { locateFfTool } from '../lib/media/ffmpeg-path';
import { ChannelMessage, isRecord } from '../lib/node-glue/flow-messages';
import { describeProbe, SourceNodeApi } from '../lib/node-glue/node-contracts';
import { nodeLogger } from '../lib/node-glue/node-logger';
import { localText } from '../lib/node-glue/localised-text';
import { readSourceSettings, shortStatus } from '../lib/node-glue/node-settings';
import { DEVICE_EVENT_TOPICS, readControlEvent, readSourceOnvifSettings, SourcePtz } from '../lib/node-glue/source-ptz';
import { maskRtspUrl, splitRtspCredentials, withRtspCredentials } from '../lib/rtsp-url';
import { checkRtspLiveness } from '../lib/media/rtsp-liveness';
import { CameraLivenessWatch } from '../lib/media/camera-liveness-watch';
import { offlineCauseOfProbeFailure } from '../lib/gateway/offline-cause';
import { DEFAULTS } from '../lib/config/gateway-config';
import { openSourceRecording, SourceRecording } from '../lib/node-glue/source-recording';
import { wiredPlatformTimeZone } from '../lib/node-glue/source-recording-settings';
import * as os from 'node:os';
import * as path from 'node:path';

interface RtspSourceCredentials {
  username?: string;
  password?: string;
  /** ONVIF login when it differs from the RTSP one (issue #8). */
  onvifUsername?: string;
  onvifPassword?: string;
}

type RtspSourceNode = Node<RtspSourceCredentials> & SourceNodeApi;

type RtspSourceDef = NodeDef & Record<string, unknown>;

/** Short status reason per error code: catalogue key and English text. */
const SHORT_REASON: Record<string, [string, string]> = {
  RTSP_UNAUTHORIZED: ['unauthorised', '401 unauthorised'],
  RTSP_NOT_FOUND: ['notFound', '404 not found'],
  RTSP_REFUSED: ['refused', 'connection refused'],
  RTSP_TIMEOUT: ['timeout', 'timeout'],
  RTSP_UNREACHABLE: ['unreachable', 'unreachable'],
  RTSP_UNSUPPORTED_CODEC: ['unsupportedCodec', 'unsupported codec'],
  FFMPEG_NOT_FOUND: ['noFfprobe', 'ffprobe not found'],
};

/** Per runtime event bus: the first probes waiting for 'flows:started' (one listener for every camera). */
const waitingForStart = new WeakMap<object, Set<() => void>>();

export = function register(RED: NodeAPI): void {
  const known = waitingForStart.get(RED.events);
  const afterFlowsStart = known ?? new Set<() => void>();
  if (!known) {
    waitingForStart.set(RED.events, afterFlowsStart);
    RED.events.on('flows:started', () => {
      for (const kick of [...afterFlowsStart]) kick();
    });
  }

  function RtspSource(this: RtspSourceNode, def: RtspSourceDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED calls the constructor with `this` = the node; the handlers below close over it.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const logger = nodeLogger(node);
    const tr = (key: string, fallback: string, vars?: Record<string, string | number>) => localText(RED._, `rtsp-source.status.${key}`, fallback, vars);
    const settings = readSourceSettings(def);
    const creds: RtspSourceCredentials = { ...(node.credentials ?? {}) };
    // A URL pasted with user:password@: use the secret but say where it belongs.
    for (const key of ['url', 'subUrl'] as const) {
      const u = settings[key];
      if (!u) continue;
      const split = splitRtspCredentials(u);
      if (split.credentials.password || split.credentials.username) {
        if (split.credentials.password) node.warn(`the ${key === 'url' ? 'RTSP' : 'sub-stream'} URL holds a password: move it to the Password field (the URL is stored in the flow file)`);
        settings[key] = split.url;
        creds.username = creds.username || split.credentials.username;
        creds.password = creds.password || split.credentials.password;
      }
    }
    const probeTimeoutMs = Math.max(1000, Number(def.probeTimeout ?? 5) * 1000 || 5000);
    const retryMs = Math.max(0, Number(def.retryInterval ?? 30) * 1000 || 0);
    // Flows saved before the property existed get the default (30 s); 0 turns the check off.
    const healthSeconds = def.healthInterval === undefined || def.healthInterval === '' ? 30 : Number(def.healthInterval);
    const healthMs = Number.isFinite(healthSeconds) ? Math.max(0, healthSeconds) * 1000 : 30_000;
    const withCreds = (u: string) => withRtspCredentials(u, { username: creds.username, password: creds.password });

    let closed = false;
    let last: ChannelMessage | undefined;
    let probing: Promise<void> | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    /** The latest OPTIONS check, awaited on close so no socket outlives the node. */
    let healthCheck: Promise<unknown> | undefined;
    /** The next probe follows two unanswered health checks: its offline verdict is `unreachable`. */
    let healthLost = false;
    // The gateway's idle-camera watch, one camera: 2 failed checks → offline; skipped while a probe runs.
    const health = healthMs
      ? new CameraLivenessWatch({
          intervalMs: healthMs,
          isIngestActive: () => closed || probing !== undefined,
          check: (url) => (healthCheck = checkRtspLiveness(url, { timeoutMs: Math.min(3000, Math.max(1000, healthMs)) })),
          logger,
        })
      : undefined;

    node.mediaSource = (streamNumber, transcode) => {
      if (settings.problems.length) return undefined;
      const sub = streamNumber === 1 && settings.subUrl;
      const base = sub ? (settings.subUrl as string) : settings.url;
      const url = withCreds(base);
      return {
        key: `${settings.channelId}/${sub ? 'sub' : 'main'}`,
        url,
        displayUrl: maskRtspUrl(url),
        rtspTransport: settings.rtspTransport,
        ...(transcode && (transcode.video || transcode.audio) ? { transcode } : {}),
      };
    };
    node.channelMessage = () => last;

    // ---- recordings (issue #7): archive folders and recorder; set up below, started after the first probe kick ----
    let recording: SourceRecording | undefined;
    let recordingProblem: string | undefined;
    const recordingSuffix = () => (recording?.isRecording() ? ` · ${tr('recording', 'recording')}` : recordingProblem ? ` · ${tr('recordingError', 'recording error')}` : '');
    let onlineText: string | undefined;
    const showOnline = () => {
      if (!closed && onlineText !== undefined && last?.online) node.status({ fill: 'green', shape: 'dot', text: shortStatus(onlineText + ptzSuffix() + recordingSuffix()) });
    };
    node.recordQuery = (startMs, endMs, timeZone) => (recording ? recording.recordQuery(startMs, endMs, timeZone) : Promise.resolve([]));
    node.openPlayback = (request) => (recording?.hasArchive() ? recording.openPlayback(request) : undefined);
    node.recordCommand = (action) => (recording ? recording.recordCommand(action) : Promise.reject(new GatewayError('RECORD_NO_RECORDER', `channel ${settings.channelId} has no recorder${recordingProblem ? ` (${recordingProblem})` : ''}`, { channelId: settings.channelId })));
    node.isRecording = () => recording?.isRecording() ?? false;
    if (!settings.problems.length) {
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
      const setup = openSourceRecording(def, userDir, {
        channelId: settings.channelId,
        name: settings.name,
        timeZone: () => {
          const defs: Record<string, unknown>[] = [];
          RED.nodes.eachNode((n) => defs.push(n as unknown as Record<string, unknown>));
          return wiredPlatformTimeZone((def as { wires?: unknown }).wires, defs, DEFAULTS.timeZone);
        },
        runtimeKey: RED.events,
        // The recorder writes H.264/H.265: another camera codec is pulled transcoded (as a sender would).
        mediaSpec: (transcode) => node.mediaSource(0, transcode ?? (last?.video && !/^H26[45]$/.test(last.video.codec) ? { video: true } : undefined)),
        logger,
      });
      recording = setup.recording;
      recordingProblem = setup.problem;
      if (setup.error) node.error(setup.error);
      recording?.on('recording', showOnline);
    }

    // ---- PTZ over ONVIF (issue #8): lib/node-glue/source-ptz.ts; the note follows the live-video status, never replaces it ----
    const onvifSettings = readSourceOnvifSettings(def, creds);
    for (const p of onvifSettings.problems) node.warn(`ONVIF settings: ${p} (PTZ off)`);
    const ptz = new SourcePtz({
      channelId: settings.channelId,
      name: settings.name,
      url: settings.url,
      rtspUsername: creds.username,
      rtspPassword: creds.password,
      onvif: onvifSettings.onvif,
      manualPtzType: Number(def.ptzType) || 3,
      logger,
    });
    node.presets = () => ptz.presets();
    const ptzSuffix = () => {
      const note = ptz.statusNote();
      return note ? ` · ${tr(note.key, note.fallback)}` : '';
    };
    ptz.on('change', () => {
      if (closed) return;
      showOnline();
      // PTZType is in the catalog: tell the device when ONVIF changed it.
      if (last && last.ptzType !== ptz.ptzType()) {
        last = { ...last, ptzType: ptz.ptzType() };
        node.send({ topic: 'channel', payload: last });
      }
    });
    if (!settings.problems.length) ptz.start();

    if (settings.problems.length) {
      node.status({ fill: 'red', shape: 'ring', text: shortStatus(settings.problems[0]) });
      node.error(`invalid configuration: ${settings.problems.join('; ')}`);
    }

    const baseMessage = (): Omit<ChannelMessage, 'online'> => ({
      channelId: settings.channelId,
      name: settings.name,
      sourceNodeId: node.id,
      url: maskRtspUrl(withCreds(settings.url)),
      ...(settings.subUrl ? { subUrl: maskRtspUrl(withCreds(settings.subUrl)) } : {}),
      ...(typeof def.manufacturer === 'string' && def.manufacturer ? { manufacturer: def.manufacturer } : {}),
      ...(typeof def.model === 'string' && def.model ? { model: def.model } : {}),
      ptzType: ptz.ptzType(),
    });

    const scheduleRetry = () => {
      if (closed || !retryMs || retryTimer) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void probe(false);
      }, retryMs);
    };

    // Two OPTIONS checks in a row without an answer: probe again (ffprobe), whose offline verdict
    // sends the offline channel message, so the device raises video loss. The watch runs only
    // while the last probe found the camera online.
    health?.on('change', (_id, online) => {
      if (online || closed || probing) return;
      // No answer at all: whatever ffprobe then says, the camera is unreachable (catalog OFF).
      healthLost = true;
      void probe(false);
    });

    const probe = (always: boolean): Promise<void> => {
      if (settings.problems.length || closed) return Promise.resolve();
      if (probing) return probing;
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
      }
      health?.unwatch(settings.channelId);
      const afterHealthLoss = healthLost;
      healthLost = false;
      node.status({ fill: 'yellow', shape: 'ring', text: tr('probing', 'probing…') });
      probing = (async () => {
        let msg: ChannelMessage;
        try {
          const ffprobe = locateFfTool('ffprobe', { logger });
          const result = await new FfProbe({ ffprobe, rtspTransport: settings.rtspTransport, timeoutMs: probeTimeoutMs }).probe(withCreds(settings.url));
          msg = { ...baseMessage(), online: true, ...(result.video ? { video: result.video } : {}), hasAudio: result.hasAudio, ...(result.audioCodec ? { audioCodec: result.audioCodec } : {}) };
          onlineText = describeProbe(result);
        } catch (e) {
          const code = e instanceof GatewayError ? e.code : '';
          const reason = (e as Error).message;
          const offlineCause = afterHealthLoss ? 'unreachable' : offlineCauseOfProbeFailure(e);
          msg = { ...baseMessage(), online: false, reason, offlineCause, ...(last?.video ? { video: last.video } : {}) };
          const short = SHORT_REASON[code];
          if (!closed) node.status({ fill: 'red', shape: 'ring', text: shortStatus(tr('offline', 'offline: __reason__', { reason: short ? tr(short[0], short[1]) : reason })) });
          if (!last || last.online) logger.warn(`camera ${maskRtspUrl(withCreds(settings.url))} is offline: ${reason}`, { channelId: settings.channelId });
        }
        const changed = !last || last.online !== msg.online || JSON.stringify(last.video) !== JSON.stringify(msg.video) || last.hasAudio !== msg.hasAudio || last.offlineCause !== msg.offlineCause;
        last = msg;
        showOnline();
        if (closed) return;
        if (always || changed) node.send({ topic: 'channel', payload: msg });
        if (!msg.online) scheduleRetry();
      })().finally(() => {
        probing = undefined;
        if (!closed && last?.online) health?.watch(settings.channelId, settings.url);
      });
      return probing;
    };

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const payload: unknown = msg.payload;
      // gb28181-device output 2 wired here: PTZ controls for our channel; its other events are not for us.
      if (msg.topic === 'control') {
        const read = readControlEvent(payload);
        if (read.kind === 'invalid') return done(new Error(`control: ${read.problem}`));
        if (read.kind === 'other-control') return done();
        ptz.handleControl(read.event).then(() => done(), (e: unknown) => done(e as Error));
        return;
      }
      if (typeof msg.topic === 'string' && DEVICE_EVENT_TOPICS.includes(msg.topic)) return done();
      const command = typeof msg.topic === 'string' && msg.topic ? msg.topic : typeof payload === 'string' ? payload : isRecord(payload) && typeof payload.command === 'string' ? payload.command : '';
      if (isRecord(payload)) {
        // A health monitor sends one reconnect stream to every source: take only ours.
        const forChannel = typeof payload.channelId === 'string' ? payload.channelId : undefined;
        const forNode = typeof payload.sourceNodeId === 'string' ? payload.sourceNodeId : undefined;
        if ((forChannel && forChannel !== settings.channelId) || (forNode && forNode !== node.id)) {
          done();
          return;
        }
      }
      if (command !== 'reconnect' && command !== 'probe') {
        done(new Error(`unknown command "${command}": send msg.topic "probe" or "reconnect"`));
        return;
      }
      if (settings.problems.length) {
        done(new Error(`invalid configuration: ${settings.problems.join('; ')}`));
        return;
      }
      probe(true).then(() => done(), (e: unknown) => done(e as Error));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      health?.stop();
      // ffprobe exits by its own timeout: wait for it so no process outlives the node.
      const inFlight = Promise.all([probing ?? Promise.resolve(), healthCheck, recording?.stop().catch((e: unknown) => node.warn(`recordings: ${(e as Error).message}`)), ptz.close().catch(() => undefined)]);
      const bound = new Promise((r) => setTimeout(r, probeTimeoutMs + 3000).unref());
      void Promise.race([inFlight.catch(() => undefined), bound]).then(() => {
        node.status({});
        done();
      });
    });

    // After every node of the flows exists (Node-RED creates them one by one), so the device it is
    // wired to receives the first channel message; the timer covers a runtime that never says so.
    if (!settings.problems.length) {
      let first = true;
      const kick = () => {
        if (!first) return;
        first = false;
        afterFlowsStart.delete(kick);
        clearTimeout(fallback);
        void probe(true);
        // After every sender joined the shared feed pool (their transcode option), never before the probe.
        recording?.start();
      };
      const fallback = setTimeout(kick, 1500);
      afterFlowsStart.add(kick);
      node.on('close', () => {
        first = false;
        clearTimeout(fallback);
        afterFlowsStart.delete(kick);
      });
    }
  }
  RED.nodes.registerType<RtspSourceNode, RtspSourceDef, object, RtspSourceCredentials>('rtsp-source', RtspSource, {
    credentials: { username: { type: 'text' }, password: { type: 'password' }, onvifUsername: { type: 'text' }, onvifPassword: { type: 'password' } },
  });
};
