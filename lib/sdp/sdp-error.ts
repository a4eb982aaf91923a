import { GatewayError } from '../errors';

/** code SDP_MALFORMED (answer 400) or SDP_UNSUPPORTED (answer 488, RFC 3261 §21.4.26). */
export class SdpError extends GatewayError {
  get sipStatus(): number {
    return this.code === 'SDP_UNSUPPORTED' ? 488 : 400;
  }
}
