/** `sabatili flows print FLOW --lang`: the storyboard product staff read, through the command parser. */
import { describe, expect, it } from 'vitest';
import { FLOW_NAMES } from '../../flows/lib.ts';
import { sabatili } from '../support/cli.ts';

describe('sabatili flows print', () => {
  it('shows each screen as the member sees it and where each key leads (coverage, French)', async () => {
    const r = await sabatili(['flows', 'print', 'coverage', '--lang', 'fr']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^coverage \(fr\)$/m);
    // A screen, its numbered choices as rendered, then the keys: a choice to a state, 0 back.
    expect(r.stdout).toContain('[coverage.active]');
    expect(r.stdout).toContain('Couvert jusqu');
    expect(r.stdout).toMatch(/^ {3}1 → beneficiaries/m);
    expect(r.stdout).toMatch(/^ {3}2 → \(to the contribute flow\)$/m);
  });

  it('in Bambara, every flow prints without error, named choices of computed menus included', async () => {
    for (const flow of FLOW_NAMES) {
      const r = await sabatili(['flows', 'print', flow, '--lang', 'bm']);
      expect(r.code, `${flow}: ${r.stderr}`).toBe(0);
      expect(r.stdout).not.toContain('(no handler)');
    }
    const contribute = await sabatili(['flows', 'print', 'contribute', '--lang', 'bm']);
    expect(contribute.stdout).toContain('Bolomafara sara Orange Money');
    expect(contribute.stdout).toContain('"other" → enterAmount');
  });

  it('refuses an unknown flow or language as a user error (exit 2)', async () => {
    expect(await sabatili(['flows', 'print', 'nope'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no flow "nope"') });
    expect(await sabatili(['flows', 'print', 'main', '--lang', 'en'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('fr or bm'),
    });
  });
});
