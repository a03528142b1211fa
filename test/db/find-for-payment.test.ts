/** Finding the household a member pays for, as typed on a handset (issue 15): phone, card, or the card's digits when unambiguous. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const find = (typed: string) => {
  const h = app.services.households.findForPayment(typed);
  return h === undefined || h === 'ambiguous' ? h : h.cardNumber;
};

describe('findForPayment', () => {
  it.each([
    ['76000003', 'KOU-MPE-0003'],
    ['76 00 00 03', 'KOU-MPE-0003'],
    ['+22376000003', 'KOU-MPE-0003'],
    ['0022376000003', 'KOU-MPE-0003'],
    ['223 76 00 00 03', 'KOU-MPE-0003'],
    ['KOU-MPE-0003', 'KOU-MPE-0003'],
    ['kou-mpe-0003', 'KOU-MPE-0003'],
    ['kou mpe 0003', 'KOU-MPE-0003'],
    ['KOUMPE0003', 'KOU-MPE-0003'],
    ['kou.mpe.0003', 'KOU-MPE-0003'],
    ['0003', 'KOU-MPE-0003'],
    ['66000004', 'KOU-VIL-0004'],
  ])('%j is %s', (typed, card) => expect(find(typed)).toBe(card));

  it.each(['3', '003', '76000098', 'XX-999', 'KOU-MPE', '', '   '])('%j is no household', (typed) => expect(find(typed)).toBeUndefined());

  it("digits that are several cards' digits are not guessed", () => {
    const mutuelleId = app.services.households.findByPhone('+22376000001')?.mutuelleId as string;
    app.services.households.create(
      {
        cardNumber: 'SIK-KLE-0003',
        adherentName: 'Awa Diarra',
        phone: '+22376000097',
        language: 'fr',
        mutuelleId,
        joinedOn: '2026-01-05',
        beneficiaries: [{ name: 'Awa Diarra', relation: 'adherent', subsidised: false }],
      },
      app.clock.now(),
    );
    expect(find('0003')).toBe('ambiguous');
    expect(find('kou mpe 0003')).toBe('KOU-MPE-0003');
    expect(find('76000003')).toBe('KOU-MPE-0003');
  });
});
