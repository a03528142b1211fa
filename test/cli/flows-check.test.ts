import { describe, expect, it } from 'vitest';
import { type Catalogs, type Entry, loadCatalogs } from '../../src/i18n/catalog.ts';
import { wrap } from '../../src/i18n/narrow.ts';
import { checkFlows, narrowProblems } from '../../src/ussd/check.ts';
import { renderScreen } from '../../src/ussd/render.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

function withChange(change: (c: { fr: Map<string, Entry>; bm: Map<string, Entry> }) => void): Catalogs {
  const c = loadCatalogs();
  const copy = { fr: new Map(c.fr), bm: new Map(c.bm) };
  change(copy);
  return copy;
}

describe('sabatili flows check', () => {
  it('passes on the shipped flows and catalogs (the real binary)', async () => {
    expect(checkFlows().problems).toEqual([]);
    const r = await spawnSabatili(['flows', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 problems/);
  });

  it('fails on a message missing in one language', () => {
    const problems = checkFlows(withChange((c) => c.bm.delete('history.empty'))).problems;
    expect(problems).toContain('message "history.empty" is missing in bm.json');
  });

  it('fails on a screen over 160 septets with worst-case values', () => {
    const problems = checkFlows(withChange((c) => c.fr.set('reminders.off', { text: 'Rappels désactivés. '.repeat(8) }))).problems;
    expect(problems).toContain('reminders: reminders.off (fr): screen reminders.off cannot fit one line per page');
  });

  it('fails on a character that cannot be folded to GSM-7', () => {
    const problems = checkFlows(withChange((c) => c.bm.set('nav.more', { text: 'Wɛrɛ ✓', review: 'pending' }))).problems;
    expect(problems).toContain('bm "nav.more": cannot be folded to GSM-7: ✓');
  });

  it('fails on placeholders that differ between languages or are unknown', () => {
    const problems = checkFlows(
      withChange((c) => {
        c.bm.set('callback.queued', { text: 'UTM bɛna i wele.', review: 'pending' });
        c.fr.set('history.empty', { text: 'Rien pour {who}.' });
      }),
    ).problems;
    expect(problems).toContain('bm "callback.queued": placeholders differ from fr.json');
    expect(problems).toContain('fr "history.empty": unknown placeholder {who}');
  });

  it('lists the Bambara messages that still await a native speaker', async () => {
    const r = await sabatili(['flows', 'check', '--review']);
    expect(r.stdout).toMatch(/bm "main.coverage": N ka lakanali/);
  });

  describe('at 20 columns, as the narrowest handsets wrap', () => {
    it('wraps at spaces and cuts a word longer than the line', () => {
      expect(wrap('Reste 1 250 FCFA pour septembre').map((l) => l.text)).toEqual(['Reste 1 250 FCFA', 'pour septembre']);
      expect(wrap('W'.repeat(25)).map((l) => l.text)).toEqual(['W'.repeat(20), 'WWWWW']);
    });

    it('fails on an amount cut from its currency or between its digits that no line break can save', () => {
      const saved = checkFlows(
        withChange((c) => c.fr.set('coverage.never', { text: '{name}: pas encore couvert\nPour commencer en {month}, payez {remaining}' })),
      ).problems;
      expect(saved.filter((p) => p.includes('20 columns'))).toEqual([]);
      const stuck = checkFlows(
        withChange((c) => c.fr.set('coverage.never', { text: '{name}: pas encore couvert\nPayez-vite:{remaining}' })),
      ).problems;
      expect(stuck).toContain('coverage: coverage.summary.never (fr): "coverage.never" at 20 columns splits the amount "999 999 FCFA"');
      expect(narrowProblems('Payez maintenant 1 250 FCFA', 'Payez maintenant 1 250 FCFA', true)).toEqual([
        'splits the amount "1 250 FCFA"',
      ]);
      expect(narrowProblems('Reste 1 250 FCFA', 'Reste 1 250 FCFA', true)).toEqual([]);
    });

    it('fails on a date cut over two lines', () => {
      expect(narrowProblems('Couvert jusqu-au-bout-31/12/2026', 'Couvert jusqu-au-bout-31/12/2026', true)).toEqual([
        'splits the date "31/12/2026"',
      ]);
      expect(narrowProblems("Couvert jusqu'au 31/12/2026", "Couvert jusqu'au 31/12/2026", true)).toEqual([]);
    });

    it('fails on a choice key or a navigation key cut from its label', () => {
      const screen = 'Choisissez:\n12 Question sur ma couverture\n98 Suite 0 Retour\n00 Menu';
      expect(narrowProblems(screen, 'Choisissez:', false)).toEqual([]);
      const cut = 'Choisissez:\n1 Questionsurmacouverture\n0 Retour 00 Menu';
      expect(narrowProblems(cut, 'Choisissez:', false)).toEqual(['splits the key from its label "1 Questionsurmacouverture"']);
      const footer = 'Choisissez:\n1 Oui\n0 Retour 00 Menu';
      expect(narrowProblems(footer, 'Choisissez:', false)).toEqual([]);
      const longFooter = 'Choisissez:\n1 Oui\n98 Suite 0 Retour 00 Menu';
      expect(narrowProblems(longFooter, 'Choisissez:', false)).toEqual(['splits the key from its label "00 Menu"']);
    });

    it('fails on an SMS that a 20-column handset would cut even laid out as the outbox sends it', () => {
      expect(checkFlows().problems).toEqual([]);
      const stuck = checkFlows(
        withChange((c) => c.fr.set('sms.payment.expired', { text: 'Payez-vite:{amount}. Composez {code}' })),
      ).problems;
      expect(stuck).toContain('fr "sms.payment.expired": SMS at 20 columns splits the amount "999 999 FCFA"');
    });

    it('breaks a navigation footer that a 20-column handset would cut before "00", at no cost in septets', () => {
      const problems = checkFlows().problems;
      expect(problems.filter((p) => p.includes('20 columns'))).toEqual([]);
      const c = loadCatalogs();
      const meta = {
        screen: 'coverage.beneficiaries.title' as const,
        params: () => ({ count: 12 }),
        choices: Array.from({ length: 12 }, (_, i) => ({ value: `b${i}`, label: `Aminata Coulibaly ${i}` })),
      };
      const r = renderScreen({ catalogs: c, lang: 'fr', meta, context: null, page: 0, showBack: true, showHome: true, foldMode: 'gsm7' });
      expect(r.text.split('\n').slice(-2)).toEqual(['98 Suite 0 Retour', '00 Menu']);
    });
  });
});
