/**
 * Shared pieces of the gateway e2e tests for issue #8 (PTZ, subscriptions, alarms): a logger that keeps
 * its lines, a gateway configuration in the project's own JSON shape (parsed by the real loader), and a
 * bounded poll. Everything runs on 127.0.0.1.
 */
import { parseGatewayConfig } from '../../lib/config/config-loader';
import { GatewayConfig } from '../../lib/config/gateway-config';
import { consoleLogger, LogContext, Logger } from '../../lib/logger';

export const DEVICE_ID = '34020000001110000001';

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  context?: LogContext;
}

/** Keeps every line; prints them too when GB_E2E_LOG=1 (debugging a failure). */
export class CapturingLogger implements Logger {
  readonly lines: CapturedLine[] = [];
  private readonly echo = process.env.GB_E2E_LOG === '1' ? consoleLogger('debug') : undefined;

  debug(message: string, context?: LogContext): void {
    this.keep('debug', message, context);
  }
  info(message: string, context?: LogContext): void {
    this.keep('info', message, context);
  }
  warn(message: string, context?: LogContext): void {
    this.keep('warn', message, context);
  }
  error(message: string, context?: LogContext): void {
    this.keep('error', message, context);
  }

  /** Lines at warn or above whose context names this camera. */
  warningsFor(camera: string): CapturedLine[] {
    return this.lines.filter((l) => (l.level === 'warn' || l.level === 'error') && l.context?.camera === camera);
  }

  text(): string {
    return this.lines.map((l) => `${l.level} ${l.message} ${l.context ? JSON.stringify(l.context) : ''}`).join('\n');
  }

  private keep(level: CapturedLine['level'], message: string, context?: LogContext): void {
    this.lines.push({ level, message, context });
    this.echo?.[level](message, context);
  }
}

export interface CameraEntry {
  channel_id: string;
  name: string;
  url: string;
  onvif?: Record<string, unknown>;
  longitude?: number;
  latitude?: number;
}

/** A gateway config as a user writes it (snake_case JSON), validated by the real loader. */
export function gatewayConfig(platformPort: number, mediaPorts: [number, number], sources: CameraEntry[]): GatewayConfig {
  return parseGatewayConfig({
    device: { id: DEVICE_ID, name: 'PTZ e2e gateway' },
    platform: { host: '127.0.0.1', port: platformPort, keepalive_interval: 30 },
    local: { sip_ip: '127.0.0.1', sip_port: 0, media_ip: '127.0.0.1', media_port_range: mediaPorts },
    sources,
    log_level: 'debug',
  }).config;
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs: number, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A small port range for RTP that no other test of this file uses (start from a free ephemeral port). */
export function mediaRange(base: number): [number, number] {
  const first = Math.min(base, 65535 - 20);
  return [first, first + 19];
}
