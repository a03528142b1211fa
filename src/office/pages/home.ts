/** `/admin`: the home page, with the call-back queue's figures and today's penetration per district. */
import type { Express } from 'express';
import type { PageContext } from './shared.ts';

export function homePages(app: Express, c: PageContext): void {
  app.get('/admin', c.officer, async (_req, res) => {
    const today = c.today();
    const k = await c.kpis({ from: today, to: today, today });
    const penetration = k.districts.map((x) => ({
      district: x.district,
      covered: x.penetration.coveredPersons,
      target: x.targetPopulation,
    }));
    c.page(res, 'home', { title: 'Accueil', queue: c.queue.figures(), penetration });
  });
}
