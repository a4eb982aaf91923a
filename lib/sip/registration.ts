/**
 * Registration with the platform (GB28181-2016 §9.1.2): REGISTER with Expires, digest answer
 * to 401/407, refresh before expiry in the same Call-ID with a rising CSeq (WVP recognises a
 * refresh only by its Call-ID, notes §1.1), unregister with Expires 0. Failures are a state with
 * a readable reason, retried with exponential backoff and jitter, never in a tight loop.
 */
import { EventEmitter } from 'node:events';
import { PlatformConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { DigestChallenge, digestAuthorization, readChallenge } from './digest-auth';
import { parsePlatformDate } from './platform-clock';
import { headerText, randomToken, SipMessage } from './sip-codec';
import { SipEndpoint } from './sip-endpoint';
import { RemoteEndpoint } from './sip-transport';

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'unregistered';

export interface RegistrationOptions {
  endpoint: SipEndpoint;
  deviceId: string;
  platform: Pick<PlatformConfig, 'host' | 'port' | 'id' | 'domain' | 'password' | 'expires' | 'timeZone' | 'transport'>;
  logger?: Logger;
  /** Bound on one REGISTER transaction (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Backoff between failed attempts: from min doubling to max, with jitter (defaults 1 s, 60 s). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Random source for the jitter, in [0, 1). */
  random?: () => number;
}

interface AttemptResult {
  response?: SipMessage;
  failure?: { reason: string; status?: number };
}

/** Events: 'registering', 'registered'(expiresSeconds), 'failed'(reason, status?), 'unregistered'. */
export class Registration extends EventEmitter {
  private readonly opts: RegistrationOptions;
  private readonly logger: Logger;
  private _state: RegistrationState = 'idle';
  private _lastFailure?: string;
  private _clockOffsetMs?: number;
  private callId = '';
  private fromTag = '';
  private cseq = 0;
  private nonceCount = new Map<string, number>();
  private generation = 0;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private registeredExpires = 0;

  constructor(opts: RegistrationOptions) {
    super();
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
  }

  get state(): RegistrationState {
    return this._state;
  }

  get lastFailure(): string | undefined {
    return this._lastFailure;
  }

  /** Platform clock minus ours, from the Date header of the last 200 (ms). */
  get clockOffsetMs(): number | undefined {
    return this._clockOffsetMs;
  }

  get currentCallId(): string {
    return this.callId;
  }

  get platformEndpoint(): RemoteEndpoint {
    return { address: this.opts.platform.host, port: this.opts.platform.port, protocol: this.opts.platform.transport };
  }

  start(): void {
    this.stopped = false;
    this.restart('start');
  }

  /** Registers again from scratch (new Call-ID), now: used when keepalives show the platform lost us. */
  restart(reason: string): void {
    if (this.stopped) return;
    this.logger.info(`registering with ${this.opts.platform.id}@${this.opts.platform.host}:${this.opts.platform.port} (${reason})`);
    this.clearTimer();
    this.callId = `${randomToken(12)}@${this.opts.endpoint.contactHost}`;
    this.fromTag = randomToken(6);
    this.nonceCount.clear();
    this.setState('registering');
    this.emit('registering');
    void this.attempt(this.opts.platform.expires);
  }

  /** Unregisters (Expires 0) within a bound, then stays idle. */
  async stop(timeoutMs = 2000): Promise<void> {
    const wasRegistered = this._state === 'registered';
    this.stopped = true;
    this.generation++;
    this.clearTimer();
    if (!wasRegistered) {
      this.setState('unregistered');
      this.emit('unregistered');
      return;
    }
    const result = await this.exchange(0, Math.min(timeoutMs, this.opts.requestTimeoutMs ?? 5000), this.generation);
    if (result.failure) this.logger.warn(`unregister: ${result.failure.reason}`);
    this.setState('unregistered');
    this.emit('unregistered');
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(s: RegistrationState): void {
    this._state = s;
  }

  private async attempt(expires: number): Promise<void> {
    const gen = ++this.generation;
    const result = await this.exchange(expires, this.opts.requestTimeoutMs ?? 5000, gen);
    if (gen !== this.generation || this.stopped) return;
    if (result.failure) {
      this.fail(result.failure.reason, result.failure.status);
      return;
    }
    const response = result.response as SipMessage;
    this.failures = 0;
    this._lastFailure = undefined;
    const granted = grantedExpires(response, expires);
    this.registeredExpires = granted;
    const date = headerText(response, 'date');
    if (date) {
      const platformNow = parsePlatformDate(date, this.opts.platform.timeZone);
      if (platformNow !== undefined) this._clockOffsetMs = platformNow - Date.now();
    }
    this.setState('registered');
    this.emit('registered', granted);
    // Refresh at 3/4 of the lifetime, in the same Call-ID (GB28181-2016 §9.1.2.1).
    const refreshMs = Math.max(500, Math.floor(granted * 1000 * 0.75));
    this.timer = setTimeout(() => void this.attempt(this.opts.platform.expires), refreshMs);
    this.timer.unref?.();
  }

  private fail(reason: string, status?: number): void {
    this._lastFailure = reason;
    this.setState('failed');
    this.logger.warn(`registration failed: ${reason}`, { status });
    this.emit('failed', reason, status);
    const min = this.opts.backoffMinMs ?? 1000;
    const max = this.opts.backoffMaxMs ?? 60_000;
    const base = Math.min(max, min * 2 ** Math.min(this.failures, 16));
    this.failures++;
    const random = this.opts.random ?? Math.random;
    // Jitter in [base/2, base], never below min: a fleet of gateways does not retry in lockstep.
    const delay = Math.max(min, Math.floor(base / 2 + (random() * base) / 2));
    this.timer = setTimeout(() => this.restart(`retry after ${delay} ms`), delay);
    this.timer.unref?.();
  }

  /** One REGISTER, answering up to one challenge per nonce; never throws. */
  private async exchange(expires: number, timeoutMs: number, gen: number): Promise<AttemptResult> {
    const p = this.opts.platform;
    const uri = `sip:${p.id}@${p.host}:${p.port}`;
    let auth: { header: string; name: string } | undefined;
    let lastNonce: string | undefined;
    for (let round = 0; round < 3; round++) {
      const headers: Record<string, string> = { expires: String(expires) };
      if (auth) headers[auth.name] = auth.header;
      const request = this.opts.endpoint.newRequest({
        method: 'REGISTER',
        uri,
        from: { uri: `sip:${this.opts.deviceId}@${p.domain}`, tag: this.fromTag },
        to: { uri: `sip:${this.opts.deviceId}@${p.domain}` },
        callId: this.callId,
        cseq: ++this.cseq,
        contactUser: this.opts.deviceId,
        headers,
      });
      let response: SipMessage;
      try {
        response = await this.opts.endpoint.request(request, this.platformEndpoint, { timeoutMs });
      } catch (e) {
        return { failure: { reason: `no answer from the platform at ${p.host}:${p.port}: ${(e as Error).message}` } };
      }
      if (gen !== this.generation) return { failure: { reason: 'superseded' } };
      const status = response.status ?? 0;
      if (status >= 200 && status < 300) return { response };
      if (status === 401 || status === 407) {
        const name = status === 401 ? 'www-authenticate' : 'proxy-authenticate';
        const raw = response.headers[name];
        const challenge = Array.isArray(raw) ? readChallenge(raw[0] as Record<string, string | undefined>) : undefined;
        if (!challenge) return { failure: { reason: `platform answered ${status} without a usable digest challenge`, status } };
        if (!p.password) return { failure: { reason: `platform ${p.id} requires a password: set platform.password`, status } };
        if (lastNonce === challenge.nonce || (lastNonce !== undefined && !/stale\s*=\s*"?true/i.test(JSON.stringify(raw)))) {
          return { failure: { reason: `platform rejected our credentials (${status} again): check platform.password`, status } };
        }
        lastNonce = challenge.nonce;
        auth = { name: status === 401 ? 'authorization' : 'proxy-authorization', header: this.answer(uri, challenge, p.password) };
        continue;
      }
      if (status === 403) return { failure: { reason: `platform refused the registration: 403 ${response.reason ?? ''}`.trim() + ' (wrong platform.password or device not allowed)', status } };
      return { failure: { reason: `platform answered ${status} ${response.reason ?? ''}`.trim(), status } };
    }
    return { failure: { reason: 'too many challenges' } };
  }

  private answer(uri: string, challenge: DigestChallenge, password: string): string {
    const nc = (this.nonceCount.get(challenge.nonce) ?? 0) + 1;
    this.nonceCount.set(challenge.nonce, nc);
    return digestAuthorization('REGISTER', uri, challenge, { username: this.opts.deviceId, password }, nc).header;
  }

  /** Lifetime granted by the last 200 (seconds). */
  get expires(): number {
    return this.registeredExpires;
  }
}

function grantedExpires(response: SipMessage, requested: number): number {
  const contact = response.headers.contact;
  if (Array.isArray(contact) && contact[0]?.params.expires) {
    const v = Number(contact[0].params.expires);
    if (Number.isFinite(v) && v > 0) return v;
  }
  const h = Number(headerText(response, 'expires'));
  return Number.isFinite(h) && h > 0 ? h : requested;
}
