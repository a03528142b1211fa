/**
 * The figures UTM reports, in the console: the first page shows penetration per district against
 * the target, and the figures page shows the numbers computeKpis gives for the same period.
 */
import { describe, expect, it } from 'vitest';
import { computeKpis } from '../../src/office/kpi.ts';
import { percent2 } from '../../src/office/pages/shared.ts';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

/** Penetration: per cent with two decimals, the number the chart plots. */
const pct2 = (r: number | null) =>
  r === null ? '—' : `${percent2(r).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;
const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %`);

describe('figures in the console', () => {
  let app: TestApp;
  let manager: Browser;
  eachTestLoggedIn('chef@utm.ml', 'manager', (a, b) => ((app = a), (manager = b)));

  it('shows penetration in Sikasso and Koutiala against their targets on the first page', async () => {
    const k = computeKpis(app.services.db, { from: '2026-03-10', to: '2026-03-10', today: '2026-03-10' });
    const home = await manager.get('/admin');
    expect(k.districts.map((d) => d.district).sort()).toEqual(['Koutiala', 'Sikasso']);
    for (const d of k.districts) {
      expect(home.body).toContain(
        `<tr><td>${d.district}</td><td class="num">${d.penetration.coveredPersons}</td><td class="num">${d.targetPopulation.toLocaleString('fr-FR').replace(/\u202f/g, ' ')}</td><td class="num">${pct2(d.penetration.rate)}</td></tr>`,
      );
    }
  });

  it('shows the numbers computeKpis gives for the period, and the same as CSV', async () => {
    const k = computeKpis(app.services.db, {
      from: '2025-04-01',
      to: '2026-03-10',
      today: '2026-03-10',
      campaigns: app.services.campaigns,
    });
    const page = await manager.get('/admin/figures');
    expect(page.status).toBe(200);
    const t = k.totals;
    expect(page.body).toContain(`<td><strong>Total</strong></td><td class="num"><strong>${t.penetration.coveredPersons}</strong></td>`);
    expect(page.body).toContain(
      `<tr><td>Ménages</td><td class="num">${t.households.active}</td><td class="num">${t.households.waiting}</td><td class="num">${t.households.grace}</td><td class="num">${t.households.lapsed}</td><td></td><td class="num">${t.households.total}</td></tr>`,
    );
    expect(page.body).toContain(`data-testid="mobile-share">${pct(t.contributions.mobileMoneyShare.amount)}</strong>`);
    expect(page.body).toContain(`data-testid="success-rate">${pct(t.payments.successRate)}</strong>`);
    expect(t.contributions.months.length).toBeGreaterThan(0);
    const chart = JSON.parse(/<script type="application\/json" id="figures-data">(.*?)<\/script>/s.exec(page.body)?.[1] ?? 'null');
    // The axes read as the tables do: months by their French name, days JJ/MM/AAAA.
    expect(chart.months).toHaveLength(t.contributions.months.length);
    expect(chart.months.at(-1)).toBe('mars 2026');
    expect(chart.trendDays.every((d: string) => /^\d{2}\/\d{2}\/\d{4}$/.test(d))).toBe(true);
    // Penetration: the table's number, two decimals, is the one the chart plots for the same day.
    expect(k.period.today).toBe('2026-03-10');
    k.districts.forEach((d, i) => {
      expect(page.body).toContain(`<td class="num">${pct2(d.penetration.rate)}</td></tr>`);
      expect(pct2(d.penetration.rate)).toMatch(/^\d+,\d\d %$/);
      d.penetration.trend.forEach((p, j) => expect(chart.penetration[i].rates[j]).toBe(p.rate === null ? null : percent2(p.rate)));
    });
    expect(chart.channels[0].amounts).toEqual(t.contributions.months.map((m) => m.byChannel.orange_money.amount));

    const csv = await manager.get('/admin/figures.csv?from=2025-04-01&to=2026-03-10');
    expect(csv.status).toBe(200);
    expect(csv.body).toContain('# penetration');
  });

  it('refuses a bad date with a message, and keeps the page for managers', async () => {
    // Dates are typed JJ/MM/AAAA whatever the browser's language, and shown back so.
    const typed = await manager.get('/admin/figures?from=01%2F03%2F2026&to=10%2F03%2F2026');
    expect(typed.status).toBe(200);
    expect(typed.body).toContain('activité du 01/03/2026 au 10/03/2026');
    expect(typed.body).toContain('name="from" value="01/03/2026"');
    expect(typed.body).not.toContain('type="date"');
    const bad = await manager.get('/admin/figures?from=01-03-2026');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('date de début invalide');
    const inverted = await manager.get('/admin/figures?from=2026-03-10&to=2026-01-01');
    expect(inverted.status).toBe(400);
    // What the figures refuse (an inverted period, an unknown district) is shown on the page, with its form.
    expect(inverted.body).toContain('Période inversée : le 10/03/2026 est après le 01/01/2026.');
    expect(inverted.body).toContain('name="from"');
    const nowhere = await manager.get('/admin/figures?district=Kayes');
    expect(nowhere.status).toBe(400);
    expect(nowhere.body).toContain('Aucun district « Kayes » : choisissez-en un dans la liste.');
    expect(nowhere.body).toContain('name="from"');
    const csv = await manager.get('/admin/figures.csv?district=Kayes');
    expect(csv.status).toBe(400);
    expect(csv.body).toContain('Aucun district « Kayes »');
    const officer = await loggedIn(app, 'awa@utm.ml', 'officer');
    expect((await officer.get('/admin/figures')).status).toBe(403);
  });
});
