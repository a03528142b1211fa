import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTemplate, compile, PLACEHOLDERS, type PlaceholderValues, render, TemplateError } from '../../src/campaigns/render.ts';

const VALUES: PlaceholderValues = {
  prenom: 'Aminata',
  mutuelle: 'Mutuelle de Kléla',
  montant_du: '1 250 FCFA',
  couvert_jusqu_au: '31/03/2026',
  code_ussd: '*384*123#',
};

describe('campaign message placeholders', () => {
  it("replaces each placeholder with the member's value, wherever it stands", () => {
    expect(render("Bonjour {prenom} ({mutuelle}): {montant_du}, couvert jusqu'au {couvert_jusqu_au}. {code_ussd}", VALUES)).toBe(
      "Bonjour Aminata (Mutuelle de Kléla): 1 250 FCFA, couvert jusqu'au 31/03/2026. *384*123#",
    );
    expect(render('{prenom}{prenom}', VALUES)).toBe('AminataAminata');
    expect(render('sans valeur', VALUES)).toBe('sans valeur');
  });

  it('refuses an unknown placeholder, naming it and listing the valid ones', () => {
    expect(() => checkTemplate('Bonjour {nom}, {prenom} {Montant}')).toThrow(
      new TemplateError(
        'unknown placeholders {nom}, {Montant}; the valid ones are {prenom}, {mutuelle}, {montant_du}, {couvert_jusqu_au}, {code_ussd}',
      ),
    );
    expect(() => checkTemplate('{prenom} {code_ussd}')).not.toThrow();
  });

  it('property: the compiled template gives what a plain search-and-replace gives', () => {
    const piece = fc.oneof(fc.string(), fc.constantFrom(...Object.keys(PLACEHOLDERS).map((p) => `{${p}}`), '{', '}', '{x}'));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const template = pieces.join('');
        const expected = template.replace(/\{([^{}]*)\}/g, (whole, name: string) =>
          name in PLACEHOLDERS ? VALUES[name as keyof PlaceholderValues] : whole,
        );
        expect(compile(template)(VALUES)).toBe(expected);
      }),
    );
  });
});
