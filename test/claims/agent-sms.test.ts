/**
 * The agent's payment SMS (`disbursement.paid`): one GSM-7 segment in both languages with the
 * longest values it may get, as `flows check` demands of the `sms.*` templates (which it measures
 * by prefix; this key lives under `disbursement.`).
 */
import { describe, expect, it } from 'vitest';
import { loadCatalogs, paramsFilled, translate, WORST_CASE } from '../../src/i18n/catalog.ts';
import { SCREEN_SEPTETS, septets } from '../../src/i18n/gsm7.ts';
import { smsOnTheWire } from '../../src/i18n/narrow.ts';

describe('the agent’s payment SMS', () => {
  const catalogs = loadCatalogs();
  it.each(['fr', 'bm'] as const)('%s: fits one segment with worst-case values, and names the amount, the count and the batch', (lang) => {
    const text = catalogs[lang].get('disbursement.paid')?.text ?? '';
    expect(paramsFilled(text, WORST_CASE)).toEqual({ amount: 999_999, count: 99, reference: WORST_CASE.reference });
    const wire = smsOnTheWire(translate(catalogs, lang, 'disbursement.paid', paramsFilled(text, WORST_CASE)), 'gsm7');
    expect(septets(wire)).toBeLessThanOrEqual(SCREEN_SEPTETS);
    expect(wire).toContain('999 999 FCFA');
  });

  it('the Bambara text waits for a native speaker’s review, like the other Bambara keys', () => {
    expect(catalogs.bm.get('disbursement.paid')?.review).toBe('pending');
  });
});
