/**
 * The XML actions the gateway plays (reference/africastalking-voice.md). Five elements, always the
 * same shapes: a twenty-line writer with one escaper, rather than an XML library, and rather than
 * the SDK's ActionBuilder (it refuses http URLs and escapes nothing). Every text and every attribute
 * value goes through `escapeXml`, so a name, a reason or a URL cannot break the document.
 */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Every character XML 1.0 cannot carry at all: controls other than tab, LF and CR, lone surrogates
 * (with the u flag each is a code point outside these ranges), U+FFFE and U+FFFF.
 */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(s: string): string {
  return s.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
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
