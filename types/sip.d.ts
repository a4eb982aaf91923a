/**
 * The parts of `sip` 0.0.6 (kirm/sip.js) we use: its message parser and serializer only.
 * No @types package exists. Messages are plain objects; `content` is a latin1 ("binary") string.
 */
declare module 'sip' {
  export interface SipUri {
    schema?: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  export interface SipVia {
    version?: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
  }

  export interface SipAddress {
    name?: string;
    uri: string;
    params: Record<string, string | null>;
  }

  export interface SipCSeq {
    seq: number;
    method: string;
  }

  /** A WWW-Authenticate/Authorization header: quoted values keep their quotes. */
  export interface SipAuthHeader {
    scheme?: string;
    [param: string]: string | undefined;
  }

  export interface SipHeaders {
    via?: SipVia[];
    to?: SipAddress;
    from?: SipAddress;
    'call-id'?: string;
    cseq?: SipCSeq;
    contact?: SipAddress[] | '*';
    'content-length'?: number;
    'www-authenticate'?: SipAuthHeader[];
    'proxy-authenticate'?: SipAuthHeader[];
    authorization?: SipAuthHeader[];
    'proxy-authorization'?: SipAuthHeader[];
    [name: string]: unknown;
  }

  export interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipHeaders;
    content?: string;
  }

  /** Parses one complete message (a datagram); undefined when the start line or a header line is not SIP. */
  export function parse(data: Buffer | string): SipMessage | undefined;
  /** Serializes; sets Content-Length to `content.length` (characters, hence latin1 content). */
  export function stringify(message: SipMessage): string;
  export function parseUri(uri: string): SipUri | undefined;
  export function stringifyUri(uri: SipUri | string): string;
  export function generateBranch(): string;
}
