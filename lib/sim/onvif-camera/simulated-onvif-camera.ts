/**
 * A simulated ONVIF camera for tests: a SOAP 1.2 server over node:http on loopback. Device, Media, PTZ
 * and Imaging services on their own paths (as XAddrs from GetCapabilities/GetServices say), WS-Security
 * UsernameToken digest checked on every call except the pre-authentication ones (ONVIF Core Spec
 * §5.12.1: GetSystemDateAndTime, GetCapabilities, GetServices), a `ter:NotAuthorized` fault with HTTP 400
 * on bad credentials. Modes: `normal`; `hang` (reads the request, never answers); `refuse` (stops
 * listening, so connects get ECONNREFUSED; `normal` listens again on the same port).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { OnvifSimModel, RecordedOnvifCall, SimPreset, SimService, textOf } from './onvif-sim-model';
import { senderFault, SoapFault, soapEnvelope, soapFaultXml, SoapFaultSignal } from './soap-envelope';
import { HttpDigestCheck } from './http-digest-check';
import { verifyUsernameToken } from './ws-username-token';

export type SimCameraMode = 'normal' | 'hang' | 'refuse';

/** How the camera authenticates: WS-Security UsernameToken (the ONVIF default) or HTTP Digest (§5.9.1). */
/** `none`: every request is accepted (the `npm start` demo, whose flow holds no ONVIF password). */
export type SimAuthScheme = 'ws-security' | 'http-digest' | 'none';

export interface SimulatedOnvifCameraOptions {
  username?: string;
  password?: string;
  /** A PTZ camera (PTZ service, a profile with a PTZConfiguration); false: a fixed camera. Default true. */
  ptz?: boolean;
  /** Has an Imaging service (focus). Default true. */
  imaging?: boolean;
  presets?: SimPreset[];
  maxPresets?: number;
  host?: string;
  port?: number;
  mode?: SimCameraMode;
  authScheme?: SimAuthScheme;
  /** Delay before each answer, to play a slow camera. */
  answerDelayMs?: number;
}

/** Every SOAP request received, authenticated or not. */
export interface RecordedSoapRequest {
  path: string;
  action: string;
  authenticated: boolean;
  at: number;
}

const SERVICE_PATHS: Record<string, SimService> = {
  '/onvif/device_service': 'device',
  '/onvif/media_service': 'media',
  '/onvif/ptz_service': 'ptz',
  '/onvif/imaging_service': 'imaging',
};

const PRE_AUTH_ACTIONS = new Set(['GetSystemDateAndTime', 'GetCapabilities', 'GetServices']);
const MAX_BODY_BYTES = 256 * 1024;

export class SimulatedOnvifCamera extends EventEmitter {
  readonly model: OnvifSimModel;
  readonly requests: RecordedSoapRequest[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly parser = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false });
  private readonly host: string;
  private boundPort: number;
  private modeNow: SimCameraMode;
  private listening = false;
  private readonly username: string;
  private readonly password: string;
  private readonly answerDelayMs: number;
  private readonly authScheme: SimAuthScheme;
  private readonly digest = new HttpDigestCheck();
  private inFlightNow = 0;
  private maxInFlightNow = 0;

  constructor(options: SimulatedOnvifCameraOptions = {}) {
    super();
    this.username = options.username ?? 'admin';
    this.password = options.password ?? 'secret';
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port ?? 0;
    this.modeNow = options.mode ?? 'normal';
    this.answerDelayMs = options.answerDelayMs ?? 0;
    this.authScheme = options.authScheme ?? 'ws-security';
    this.model = new OnvifSimModel({
      ptz: options.ptz ?? true,
      imaging: options.imaging ?? true,
      presets: options.presets ?? [],
      maxPresets: options.maxPresets ?? 255,
    });
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get mode(): SimCameraMode {
    return this.modeNow;
  }

  /** Most SOAP requests the camera held unanswered at once (1 for a client that serialises). */
  get maxInFlight(): number {
    return this.maxInFlightNow;
  }

  /** PTZ and Imaging calls with their parsed arguments. */
  get calls(): RecordedOnvifCall[] {
    return this.model.calls;
  }

  async start(): Promise<void> {
    if (this.modeNow !== 'refuse') await this.listen();
    else if (this.boundPort === 0) {
      // Reserve a port number that nothing listens on.
      await this.listen();
      await this.closeListener();
    }
  }

  async stop(): Promise<void> {
    this.model.dispose();
    await this.closeListener();
  }

  async setMode(mode: SimCameraMode): Promise<void> {
    this.modeNow = mode;
    if (mode === 'refuse') await this.closeListener();
    else if (!this.listening) await this.listen();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(this.boundPort, this.host, () => {
        this.server.off('error', onError);
        this.listening = true;
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private closeListener(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      if (this.modeNow === 'hang') return; // read it, never answer: a camera that has stopped responding
      this.inFlightNow++;
      this.maxInFlightNow = Math.max(this.maxInFlightNow, this.inFlightNow);
      res.on('close', () => this.inFlightNow--);
      const answer = () => this.answer(req.url ?? '/', Buffer.concat(chunks).toString('utf8'), res, req.headers.authorization);
      if (this.answerDelayMs > 0) setTimeout(answer, this.answerDelayMs).unref();
      else answer();
    });
  }

  private send(res: http.ServerResponse, status: number, xml: string): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  private fault(res: http.ServerResponse, f: SoapFault): void {
    this.send(res, f.httpStatus, soapFaultXml(f));
  }

  private answer(path: string, body: string, res: http.ServerResponse, authorization: string | undefined): void {
    const service = SERVICE_PATHS[path.split('?')[0]];
    if (!service) {
      this.send(res, 404, 'not found');
      return;
    }
    let doc: unknown;
    try {
      doc = this.parser.parse(body, true);
    } catch {
      this.fault(res, senderFault('malformed XML', 'ter:WellFormed'));
      return;
    }
    const envelope = pick(doc, 'Envelope');
    const bodyEl = pick(envelope, 'Body');
    const action = bodyEl && typeof bodyEl === 'object' ? Object.keys(bodyEl).find((k) => !k.startsWith('@_')) : undefined;
    if (!action) {
      this.fault(res, senderFault('no action in the SOAP body', 'ter:InvalidArgVal'));
      return;
    }
    const creds = { username: this.username, password: this.password };
    let authenticated: boolean;
    let reason = '';
    if (this.authScheme === 'none') {
      authenticated = true;
    } else if (this.authScheme === 'http-digest') {
      authenticated = this.digest.verify(authorization, 'POST', creds);
      reason = authorization ? 'digest mismatch' : 'no Authorization header';
    } else {
      const token = pick(pick(pick(envelope, 'Header'), 'Security'), 'UsernameToken');
      const verdict = verifyUsernameToken(
        token === undefined
          ? undefined
          : {
              username: textOf(pick(token, 'Username')),
              password: textOf(pick(token, 'Password')),
              passwordType: attrOf(pick(token, 'Password'), 'Type'),
              nonce: textOf(pick(token, 'Nonce')),
              created: textOf(pick(token, 'Created')),
            },
        creds,
      );
      authenticated = verdict.ok;
      if (!verdict.ok) reason = verdict.reason;
    }
    this.requests.push({ path, action, authenticated, at: Date.now() });
    if (!authenticated && !PRE_AUTH_ACTIONS.has(action)) {
      this.emit('auth-failure', { action, reason });
      if (this.authScheme === 'http-digest') {
        const text = soapFaultXml(senderFault('Sender not authorized', 'ter:NotAuthorized'));
        res.writeHead(401, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'WWW-Authenticate': this.digest.challenge() });
        res.end(text);
      } else {
        this.fault(res, senderFault('Sender not authorized', 'ter:NotAuthorized'));
      }
      return;
    }
    if (!this.model.handles(service, action)) {
      this.fault(res, { httpStatus: 400, code: 'Sender', subcodes: ['ter:ActionNotSupported'], reason: `${action} not supported by the ${service} service` });
      return;
    }
    const argsRaw = pick(bodyEl, action);
    const args = argsRaw && typeof argsRaw === 'object' ? (argsRaw as Record<string, unknown>) : {};
    try {
      const inner = this.model.run(service, action, args, `http://${this.host}:${this.boundPort}`);
      this.send(res, 200, soapEnvelope(inner));
      this.emit('call', action);
    } catch (e) {
      if (e instanceof SoapFaultSignal) this.fault(res, e.fault);
      else this.fault(res, { httpStatus: 500, code: 'Receiver', subcodes: ['ter:Action'], reason: e instanceof Error ? e.message : String(e) });
    }
  }
}

function pick(v: unknown, key: string): unknown {
  return v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
}

function attrOf(v: unknown, name: string): string | undefined {
  const a = pick(v, `@_${name}`);
  return typeof a === 'string' ? a : undefined;
}
