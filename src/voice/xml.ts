/**
 * The XML actions the gateway plays (reference/africastalking-voice.md). Five elements, always the
 * same shapes: a twenty-line writer with one escaper, rather than an XML library, and rather than
 * the SDK's ActionBuilder (it refuses http URLs and escapes nothing). Every text and every attribute
 * value goes through `escapeXml`, so a name, a reason or a URL cannot break the document.
 */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Any character XML 1.0 cannot carry (a lone surrogate is no code point of the ranges). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Drops what XML 1.0 cannot carry at all: controls other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF. */
function xmlChars(s: string): string {
  // Nearly every text is clean: one regular expression instead of a walk through its characters.
  if (!NOT_XML.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if ((c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) || c === 0xfffe || c === 0xffff || (c >= 0xd800 && c <= 0xdfff)) continue;
    out += ch;
  }
  return out;
}

export function escapeXml(s: string): string {
  return xmlChars(s).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

export type Action =
  | { say: string }
  | { play: string }
  | {
      getDigits: {
        prompt: { say: string } | { play: string };
        timeoutSeconds: number;
        numDigits?: number;
        finishOnKey?: string;
        callbackUrl: string;
      };
    }
  | { reject: true };

function one(a: Action): string {
  if ('say' in a) return `<Say voice="woman" playBeep="false">${escapeXml(a.say)}</Say>`;
  if ('play' in a) return `<Play url="${escapeXml(a.play)}"/>`;
  if ('reject' in a) return '<Reject/>';
  const g = a.getDigits;
  const attrs = [
    `timeout="${g.timeoutSeconds}"`,
    ...(g.finishOnKey ? [`finishOnKey="${escapeXml(g.finishOnKey)}"`] : []),
    ...(g.numDigits ? [`numDigits="${g.numDigits}"`] : []),
    `callbackUrl="${escapeXml(g.callbackUrl)}"`,
  ];
  return `<GetDigits ${attrs.join(' ')}>${one(g.prompt)}</GetDigits>`;
}

export function response(actions: readonly Action[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${actions.map(one).join('')}</Response>`;
}
