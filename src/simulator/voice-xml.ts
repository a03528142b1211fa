/**
 * Reads an application's voice answer as Africa's Talking's gateway does
 * (../shared/reference/africastalking-voice.md). No XML parser is a dependency, and this one
 * vocabulary (a `<Response>` of `Say`, `Play`, `GetDigits`, `Reject`, and the few others a
 * gateway knows) does not need one: a strict reader of elements, attributes and the five entities
 * (plus character references) that refuses anything else with the reason, so that an answer a real
 * gateway could not play shows as an error in the simulator instead of being guessed at.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class VoiceXmlError extends Error {}

const ENTITY: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (s.includes('<')) throw new VoiceXmlError('a "<" inside text or an attribute value must be escaped');
  return s.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new VoiceXmlError(`an unescaped "&" near "${whole.slice(0, 12)}"`);
    if (name in ENTITY) return ENTITY[name] as string;
    const code = /^#x([0-9a-f]+)$/i.exec(name) ? Number.parseInt(name.slice(2), 16) : /^#(\d+)$/.test(name) ? Number(name.slice(1)) : NaN;
    if (!Number.isInteger(code) || code > 0x10ffff) throw new VoiceXmlError(`unknown entity &${name};`);
    return String.fromCodePoint(code);
  });
}

const TAG = /<(\/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z][A-Za-z0-9:]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTR = /([A-Za-z][A-Za-z0-9:]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses one document: an optional declaration, one root element, nothing after it. */
export function parseXml(doc: string): XmlElement {
  let i = 0;
  const src = doc.replace(/^\uFEFF/, '');
  const decl = /^\s*<\?xml\b[^?]*\?>/.exec(src);
  if (decl) i = decl[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt === -1 ? src.length : lt);
    if (text.trim() !== '') {
      const top = stack.at(-1);
      if (!top) throw new VoiceXmlError(`text outside the root element: "${text.trim().slice(0, 40)}"`);
      top.text += decodeEntities(text);
    }
    if (lt === -1) break;
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      if (end === -1) throw new VoiceXmlError('a comment is never closed');
      i = end + 3;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(src);
    if (!m) throw new VoiceXmlError(`not a well-formed tag: "${src.slice(lt, lt + 40)}"`);
    i = TAG.lastIndex;
    const [, closing, name, rawAttrs, selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== name) throw new VoiceXmlError(`</${name}> closes ${open ? `<${open.name}>` : 'nothing'}`);
      if (stack.length === 0) root = open;
      continue;
    }
    if (root) throw new VoiceXmlError('content after the root element');
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(ATTR)) {
      const key = a[1] as string;
      if (key in attrs) throw new VoiceXmlError(`attribute ${key} twice on <${name}>`);
      attrs[key] = decodeEntities(a[2] ?? a[3] ?? '');
    }
    const el: XmlElement = { name, attrs, children: [], text: '' };
    stack.at(-1)?.children.push(el);
    if (selfClosing) {
      if (stack.length === 0) root = el;
    } else stack.push(el);
  }
  if (stack.length > 0) throw new VoiceXmlError(`<${(stack.at(-1) as XmlElement).name}> is never closed`);
  if (!root) throw new VoiceXmlError('no root element');
  return root;
}

/** What is said: a text the gateway speaks itself, or an audio file it fetches. */
export type Said = { say: string } | { play: string };

export interface Collect {
  numDigits: number | null;
  finishOnKey: string | null;
  timeoutSeconds: number;
  /** Where the digits go; null: the number's main callback. */
  callbackUrl: string | null;
}

/** What the gateway does with an answer: play these prompts, then collect digits, reject the call, or hang up. */
export interface VoicePlan {
  said: Said[];
  next: { collect: Collect } | { reject: true } | { hangUp: true };
}

/** Africa's Talking's default when GetDigits names no timeout. */
const DEFAULT_TIMEOUT_SECONDS = 5;
const KNOWN_UNPLAYED = new Set(['Record', 'Dial', 'Redirect', 'Enqueue', 'Dequeue', 'Conference']);

function said(el: XmlElement): Said {
  if (el.children.length > 0) throw new VoiceXmlError(`<${el.name}> holds no elements`);
  if (el.name === 'Say') {
    if (el.text.trim() === '') throw new VoiceXmlError('<Say> has nothing to say');
    return { say: el.text.trim() };
  }
  const url = el.attrs.url;
  if (!url) throw new VoiceXmlError('<Play> needs a url');
  if (!/^https?:\/\//.test(url)) throw new VoiceXmlError(`<Play url> is not an http(s) URL: ${url}`);
  return { play: url };
}

function whole(el: XmlElement, attr: string, min: number): number | null {
  const v = el.attrs[attr];
  if (v === undefined) return null;
  if (!/^\d{1,4}$/.test(v) || Number(v) < min) throw new VoiceXmlError(`<${el.name} ${attr}="${v}"> is not a whole number ≥ ${min}`);
  return Number(v);
}

/**
 * The gateway's reading of an answer: actions in order; a GetDigits plays its one prompt and waits
 * for the keys (what follows it is not reached by this simulator); no GetDigits: the call ends
 * once everything is said.
 */
export function readVoiceAnswer(xml: string): VoicePlan {
  const root = parseXml(xml);
  if (root.name !== 'Response') throw new VoiceXmlError(`the root element is <${root.name}>, not <Response>`);
  if (root.text.trim() !== '') throw new VoiceXmlError('text directly inside <Response>');
  const out: Said[] = [];
  for (const el of root.children) {
    if (el.name === 'Say' || el.name === 'Play') out.push(said(el));
    else if (el.name === 'Reject') return { said: out, next: { reject: true } };
    else if (el.name === 'GetDigits') {
      if (el.children.length !== 1 || el.text.trim() !== '')
        throw new VoiceXmlError('<GetDigits> holds exactly one <Say> or <Play> as its prompt');
      const prompt = el.children[0] as XmlElement;
      if (prompt.name !== 'Say' && prompt.name !== 'Play')
        throw new VoiceXmlError(`<GetDigits> prompts with <Say> or <Play>, not <${prompt.name}>`);
      out.push(said(prompt));
      const finishOnKey = el.attrs.finishOnKey ?? null;
      if (finishOnKey !== null && !/^[0-9*#]$/.test(finishOnKey)) throw new VoiceXmlError(`finishOnKey="${finishOnKey}" is not one key`);
      const callbackUrl = el.attrs.callbackUrl ?? null;
      if (callbackUrl !== null && !/^https?:\/\//.test(callbackUrl))
        throw new VoiceXmlError(`callbackUrl is not an http(s) URL: ${callbackUrl}`);
      return {
        said: out,
        next: {
          collect: {
            numDigits: whole(el, 'numDigits', 1),
            finishOnKey,
            timeoutSeconds: whole(el, 'timeout', 1) ?? DEFAULT_TIMEOUT_SECONDS,
            callbackUrl,
          },
        },
      };
    } else if (KNOWN_UNPLAYED.has(el.name)) throw new VoiceXmlError(`<${el.name}> is an action this simulator does not play`);
    else throw new VoiceXmlError(`<${el.name}> is not an Africa's Talking voice action`);
  }
  return { said: out, next: { hangUp: true } };
}
