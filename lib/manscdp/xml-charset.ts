/**
 * Charsets of MANSCDP bodies. WVP sends and expects GB2312 unless a device is switched to UTF-8
 * (notes §1.8). Reading: the declared encoding first, then whatever decodes cleanly (UTF-8 if
 * valid, else GB18030, the superset of GB2312 and GBK). Writing: the configured charset.
 */
import * as iconv from 'iconv-lite';
import { XmlCharset } from '../config/gateway-config';

const DECLARED = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']/;

export interface DecodedXml {
  text: string;
  /** The charset the body was decoded with. */
  charset: string;
}

function isValidUtf8(body: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** The declared encoding of an XML body, if any. */
export function declaredEncoding(body: Buffer): string | undefined {
  const m = DECLARED.exec(body.subarray(0, 200).toString('latin1'));
  return m ? m[1] : undefined;
}

export function decodeXmlBody(body: Buffer): DecodedXml {
  let start = 0;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) start = 3; // UTF-8 BOM
  const bytes = body.subarray(start);
  const declared = declaredEncoding(bytes)?.toLowerCase();
  const utf8 = isValidUtf8(bytes);
  if (declared && /^utf-?8$/.test(declared) && utf8) return { text: bytes.toString('utf8'), charset: 'UTF-8' };
  if (declared && /^(gb2312|gbk|gb18030|cp936|euc-cn)$/.test(declared)) {
    const text = iconv.decode(bytes, 'gb18030');
    // Declared GB but not decodable as such while valid UTF-8: a common device bug, read what decodes cleanly.
    if (text.includes('\ufffd') && utf8) return { text: bytes.toString('utf8'), charset: 'UTF-8' };
    return { text, charset: declared.toUpperCase() };
  }
  if (declared && !/^utf-?8$/.test(declared) && iconv.encodingExists(declared)) return { text: iconv.decode(bytes, declared), charset: declared.toUpperCase() };
  if (utf8) return { text: bytes.toString('utf8'), charset: 'UTF-8' };
  return { text: iconv.decode(bytes, 'gb18030'), charset: 'GB18030' };
}

export function encodeXmlBody(text: string, charset: XmlCharset): Buffer {
  if (charset === 'UTF-8') return Buffer.from(text, 'utf8');
  return iconv.encode(text, charset === 'GB2312' ? 'gbk' : charset.toLowerCase());
}
