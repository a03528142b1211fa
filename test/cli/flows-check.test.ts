import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadCatalogs, type Catalogs, type Entry } from '../../src/i18n/catalog.ts';
import { checkFlows } from '../../src/ussd/check.ts';

function withChange(change: (c: { fr: Map<string, Entry>; bm: Map<string, Entry> }) => void): Catalogs {
  const c = loadCatalogs();
  const copy = { fr: new Map(c.fr), bm: new Map(c.bm) };
  change(copy);
  return copy;
}

describe('sabatili flows check', () => {
  it('passes on the shipped flows and catalogs', () => {
    expect(checkFlows().problems).toEqual([]);
    const r = spawnSync('node', ['bin/sabatili.js', 'flows', 'check'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
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

  it('lists the Bambara messages that still await a native speaker', () => {
    const r = spawnSync('node', ['bin/sabatili.js', 'flows', 'check', '--review'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/bm "main.coverage": N ka lakanali/);
  });
});
