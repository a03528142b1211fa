/** The console's recording studio: every slot listed with its status, played, recorded (uploaded WAV), each take audited and heard on the next call. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../src/voice/wav.ts';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

/** A WAV at `rate` Hz (mono 16-bit) of one value: what a recorder at another rate sends. */
function take(seconds: number, value: number, rate = 16_000): Buffer {
  const wav = encodeWav([new Int16Array(seconds * rate).fill(value)]);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  return wav;
}

async function upload(app: TestApp, b: Browser, fields: Record<string, string>, file: Buffer, csrf = true) {
  const body = new FormData();
  if (csrf) body.append('_csrf', await b.csrf('/admin/voice'));
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  body.append('file', new Blob([new Uint8Array(file)], { type: 'audio/wav' }), 'take.wav');
  const res = await fetch(`${app.url}/admin/voice/record`, { method: 'POST', body, redirect: 'manual', headers: { cookie: b.cookie } });
  return { status: res.status, body: await res.text(), location: res.headers.get('location') };
}

const statusOf = (page: string, slot: string) =>
  new RegExp(`data-slot="${slot.replace('.', '\\.')}" data-status="([a-z]+)"`).exec(page)?.[1];

describe('recording studio', () => {
  let app: TestApp;
  let manager: Browser;
  eachTestLoggedIn('chef@utm.ml', 'manager', (a, b) => ((app = a), (manager = b)));

  it('lists every slot of a language with its text, status and where it is heard, linked from every page', async () => {
    const page = await manager.get('/admin/voice?lang=bm');
    expect(page.status).toBe(200);
    expect(page.body).toContain('href="/admin/voice"');
    const rows = [...page.body.matchAll(/data-slot="([^"]+)" data-status="([a-z]+)"/g)];
    expect(rows.length).toBe(app.services.voice.library.slots('bm').length);
    expect(statusOf(page.body, 'main.coverage')).toBe('synthetic');
    expect(page.body).toContain('voix française lisant le bambara');
    expect(page.body).toContain('menu « Menu principal »');
    expect(page.body).toContain('src="/admin/voice/audio/bm/main.coverage.wav"');
    expect(page.body).toMatch(/<strong>0<\/strong> enregistré/);
  });

  it('stores an uploaded WAV at 8 kHz mono, audited; the studio, the survey and the next call use it', async () => {
    const library = app.services.voice.library;
    const text = library.slots('fr').find((s) => s.slot === 'main.coverage')?.text as string;
    const prompt = {
      lang: 'fr' as const,
      fragments: [{ slot: 'main.coverage', text }],
      caption: text,
      collect: 'key' as const,
      screen: 'main',
    };
    const before = library.prepare(prompt, false);

    const res = await upload(app, manager, { lang: 'fr', slot: 'main.coverage' }, take(1, 1234));
    expect(res.status).toBe(303);
    expect(res.location).toBe('/admin/voice?lang=fr&saved=main.coverage#main.coverage');

    const page = await manager.get(res.location as string);
    expect(statusOf(page.body, 'main.coverage')).toBe('recorded');
    expect(page.body).toContain('Enregistrement de « main.coverage » mis en service.');
    expect(app.services.voice.store.prompts().find((r) => r.lang === 'fr' && r.slot === 'main.coverage')?.status).toBe('recorded');

    const audio = await fetch(`${app.url}/admin/voice/audio/fr/main.coverage.wav`, { headers: { cookie: manager.cookie } });
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    const samples = decodeWav(Buffer.from(await audio.arrayBuffer()));
    expect(samples.length).toBe(8000);
    expect(samples.every((v) => v === 1234)).toBe(true);

    // The next call's prompt has another name (the take is part of its content) and is made of the take.
    const after = library.prepare(prompt, false);
    expect(after).not.toBe(before);
    expect([...decodeWav(readFileSync((await library.file(after)) as string))].slice(0, 10)).toEqual(new Array(10).fill(1234));

    const rows = app.services.office.audit.list({ action: 'voice.record' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'chef@utm.ml', entity: 'voice_prompt', entityId: 'fr/main.coverage' });
    expect(JSON.parse(rows[0]?.after as string)).toMatchObject({
      lang: 'fr',
      slot: 'main.coverage',
      bytes: 44 + 16_000,
      seconds: 1,
      replaced: false,
      source: 'fichier',
    });
  });

  it('refuses a file that is not a 16-bit PCM WAV, in French, writing nothing', async () => {
    const eightBit = take(1, 1);
    eightBit.writeUInt16LE(8, 34);
    for (const file of [Buffer.from('ceci n’est pas un son'), eightBit]) {
      const res = await upload(app, manager, { lang: 'fr', slot: 'main.coverage' }, file);
      expect(res.status).toBe(422);
      expect(res.body).toContain('Fichier refusé: il faut un WAV PCM 16 bits');
    }
    const tooLong = await upload(app, manager, { lang: 'fr', slot: 'main.coverage' }, take(91, 1, 8000));
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toContain('Enregistrement trop long (91 s; 90 s au plus)');
    const unknown = await upload(app, manager, { lang: 'fr', slot: '../../etc/passwd' }, take(1, 1));
    expect(unknown.status).toBe(404);
    expect(existsSync(join(app.services.voice.library.recordingsDir('fr'), 'main.coverage.wav'))).toBe(false);
    expect(app.services.office.audit.list({ action: 'voice.record' })).toHaveLength(0);
  });

  it('refuses a take without the form token, and from an officer (who may listen)', async () => {
    const noToken = await upload(app, manager, { lang: 'fr', slot: 'main.coverage' }, take(1, 1), false);
    expect(noToken.status).toBe(403);
    const officer = await loggedIn(app, 'agent@utm.ml', 'officer');
    const page = await officer.get('/admin/voice');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('action="/admin/voice/record"');
    expect((await upload(app, officer, { lang: 'fr', slot: 'main.coverage' }, take(1, 1))).status).toBe(403);
    expect(existsSync(join(app.services.voice.library.recordingsDir('fr'), 'main.coverage.wav'))).toBe(false);
  });

  it('serves only the library’s slots, and only to staff', async () => {
    const get = (path: string, cookie = manager.cookie) => fetch(app.url + path, { headers: { cookie }, redirect: 'manual' });
    expect((await get('/admin/voice/audio/fr/..%2F..%2Ftest.db.wav')).status).toBe(404);
    expect((await get('/admin/voice/audio/xx/main.coverage.wav')).status).toBe(404);
    expect((await get('/admin/voice/audio/fr/main.coverage.wav', '')).status).not.toBe(200);
  });
});
