/**
 * `/admin/voice`: the recording studio. Per language, every prompt slot with its text, its status
 * (recorded, synthetic placeholder, missing; a recording that cannot be read is flagged) and where
 * the member hears it; each slot played as a call plays it, recorded from the microphone
 * (public/studio.js encodes the WAV in the browser) or uploaded as a WAV file. Any staff member may
 * listen; a take changes what every caller hears, so only managers record, and each take is audited.
 */
import type { Express, Request, Response } from 'express';
import multer from 'multer';
import { isRefusal } from '../../domain/refusal.ts';
import { LANGUAGES, type Language } from '../../i18n/catalog.ts';
import { isLanguage, MAX_TAKE_BYTES } from '../../voice/studio.ts';
import { actorOf } from '../auth.ts';
import { whereInFrench } from '../labels.ts';
import type { PageContext } from './shared.ts';

const LANGUAGE_NAMES: Record<Language, string> = { fr: 'français', bm: 'bambara' };

export function voicePages(app: Express, c: PageContext): void {
  // A take is small (MAX_TAKE_BYTES) and read whole to be converted: memory, never a file on disk.
  const take = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_TAKE_BYTES, files: 1, fields: 4 } }).single('file');

  const studioPage = (req: Request, res: Response, error?: { slot: string; text: string }, status = 200) => {
    const lang: Language = isLanguage(req.query.lang ?? req.body?.lang) ? ((req.query.lang ?? req.body?.lang) as Language) : 'fr';
    const slots = c.studio.slots(lang).map((s) => ({ ...s, where: s.where.map(whereInFrench) }));
    const saved = typeof req.query.saved === 'string' ? req.query.saved : null;
    c.page(
      res,
      'voice',
      {
        title: `Studio vocal (${LANGUAGE_NAMES[lang]})`,
        lang,
        languages: LANGUAGES.map((l) => ({ code: l, name: LANGUAGE_NAMES[l] })),
        slots,
        saved: slots.some((s) => s.slot === saved) ? saved : null,
        error,
        scripts: ['/admin/static/studio.js'],
      },
      status,
    );
  };

  app.get('/admin/voice', c.officer, (req, res) => studioPage(req, res));

  // Only slot names of the library are looked up (never a path from the URL), so nothing escapes VOICE_DIR.
  app.get('/admin/voice/audio/:lang/:slot.wav', c.officer, async (req, res, next) => {
    try {
      const file = await c.studio.audio(req.params.lang, req.params.slot);
      if (!file) {
        res.status(404).type('text/plain').send('Ni enregistrement ni voix de synthèse pour ce message.\n');
        return;
      }
      // A new take keeps this URL: the browser must not replay the old one.
      res.set('cache-control', 'no-store').type('audio/wav').sendFile(file);
    } catch (err) {
      if (isRefusal(err)) res.status(404).type('text/plain').send(`${err.message}\n`);
      else next(err);
    }
  });

  app.post('/admin/voice/record', c.manager, take, c.csrf, (req, res) => {
    const { lang, slot, source } = (req.body ?? {}) as Record<string, string | undefined>;
    if (!req.file) {
      studioPage(req, res, { slot: slot ?? '', text: 'Aucun fichier reçu: choisissez un fichier WAV ou enregistrez au micro.' }, 400);
      return;
    }
    try {
      const saved = c.studio.save(lang, slot, req.file.buffer);
      c.audit.record(actorOf(res), c.clock.now(), {
        action: 'voice.record',
        entity: 'voice_prompt',
        entityId: `${saved.lang}/${saved.slot}`,
        after: {
          lang: saved.lang,
          slot: saved.slot,
          bytes: saved.bytes,
          seconds: saved.seconds,
          replaced: saved.replaced,
          source: source === 'micro' ? 'micro' : 'fichier',
          uploadedBytes: req.file.size,
        },
      });
      res.redirect(303, `/admin/voice?lang=${saved.lang}&saved=${encodeURIComponent(saved.slot)}#${encodeURIComponent(saved.slot)}`);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      studioPage(req, res, { slot: slot ?? '', text: err.message }, err.status);
    }
  });

  // A file over the limit: multer's error, answered in French on the page rather than as a 500.
  app.use('/admin/voice/record', (err: unknown, req: Request, res: Response, next: (e?: unknown) => void) => {
    if (err instanceof multer.MulterError)
      studioPage(req, res, { slot: '', text: `Fichier refusé: ${err.code === 'LIMIT_FILE_SIZE' ? '20 Mo au plus' : err.message}.` }, 413);
    else next(err);
  });
}
