/** Typed errors of the SIP layer. */
import { ErrorContext, GatewayError } from '../errors';

/** The SIP port could not be bound (in use, no permission, address not local). */
export class SipBindError extends GatewayError {
  constructor(message: string, context: ErrorContext, cause?: unknown) {
    super('SIP_BIND_FAILED', message, context, { cause });
  }
}

/** A request got no final response within its bound (RFC 3261 §17.1.2.2 Timer F, shortened). */
export class SipTimeoutError extends GatewayError {
  constructor(message: string, context: ErrorContext) {
    super('SIP_TIMEOUT', message, context);
  }
}

/** The transport is closed or the peer cannot be reached. */
export class SipTransportError extends GatewayError {
  constructor(message: string, context: ErrorContext, cause?: unknown) {
    super('SIP_TRANSPORT', message, context, { cause });
  }
}
