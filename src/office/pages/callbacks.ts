/** `/admin/callbacks`: the call-back queue, each request claimed then done (`POST /admin/callbacks/:id/{claim,done}`). */
import type { Express, Response } from 'express';
import { actorOf } from '../auth.ts';
import { QueueError } from '../callback-queue.ts';
import { type Flash, flashOf, withFlash } from '../flash.ts';
import { idParam, type PageContext } from './shared.ts';

export function callbackPages(app: Express, c: PageContext): void {
  const callbacksPage = (res: Response, flash: Flash | undefined, status = 200) =>
    c.page(res, 'callbacks', { title: "Demandes d'appel", items: c.queue.list(), figures: c.queue.figures(), flash }, status);
  app.get('/admin/callbacks', c.officer, (req, res) => callbacksPage(res, flashOf(req)));

  for (const action of ['claim', 'done'] as const) {
    app.post(`/admin/callbacks/:id/${action}`, c.officer, c.form, c.csrf, (req, res) => {
      const id = idParam.safeParse(req.params.id);
      if (!id.success) return c.notFound(res, 'Demande introuvable');
      try {
        if (action === 'claim') c.queue.claim(id.data, actorOf(res));
        else c.queue.done(id.data, String((req.body as Record<string, unknown>).outcome ?? ''), actorOf(res));
        res.redirect(303, withFlash('/admin/callbacks', action === 'claim' ? 'callback-claimed' : 'callback-done'));
      } catch (err) {
        if (!(err instanceof QueueError)) throw err;
        callbacksPage(res, { kind: 'error', text: err.message }, 400);
      }
    });
  }
}
