/**
 * Typed errors. Every error the gateway raises says what went wrong (a stable `code` that
 * callers switch on) and for whom (camera, channel, call-id, peer) so a log line or a node
 * status is actionable without a stack trace.
 */
export interface ErrorContext {
  camera?: string;
  channelId?: string;
  deviceId?: string;
  callId?: string;
  peer?: string;
  key?: string;
  [key: string]: unknown;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** A configuration value is missing, unknown or malformed. */
export class ConfigError extends GatewayError {
  /** One line per problem, each naming the key (e.g. `wvp_server.port`). */
  readonly problems: string[];

  constructor(problems: string[], context: ErrorContext = {}) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, context);
    this.problems = problems;
  }
}
