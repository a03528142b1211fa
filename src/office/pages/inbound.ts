import type { Express } from 'express';
import { z } from 'zod';
import type { PageContext } from './shared.ts';

const query = z.object({
  phone: z
    .string()
    .trim()
    .regex(/^\+[1-9]\d{6,14}$/, { error: 'numéro au format +223XXXXXXXX' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  unanswered: z.literal('1').optional(),
});

/**
 * `/admin/inbound`: texts members (or anyone) sent to UTM's number, newest first, with whether sabatili answered and
 * why not (the per-sender limit, a number abroad, a fixed line): what the SMS cost limits leave to
 * staff is read here.
 */
export function inboundPages(app: Express, c: PageContext): void {
  const { inbound } = c;
  app.get('/admin/inbound', c.officer, (req, res) => {
    const q = query.safeParse(req.query);
    const filter = q.success ? q.data : {};
    c.page(
      res,
      'inbound',
      {
        title: 'SMS reçus',
        filter: { phone: filter.phone ?? '', unanswered: filter.unanswered === '1' },
        error: q.success ? null : 'Numéro invalide: tapez-le au format +223XXXXXXXX.',
        rows: inbound.recent({ sender: filter.phone, unansweredOnly: filter.unanswered === '1' }),
      },
      q.success ? 200 : 400,
    );
  });
}
