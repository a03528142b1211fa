/**
 * Contributing by Orange Money end to end, over real HTTP, as a member lives it: USSD hops to the
 * app, the simulated subscriber answering the operator's PIN prompt through the simulator API, the
 * operator's signed callback reaching the app, the SMS dispatcher draining the outbox to the
 * simulated phones, and the coverage screen read again in a new session.
 *
 * Each test has a fresh app (demo network, clock frozen at Tuesday 2026-03-10 09:00 in Bamako).
 * Every hop's screen is checked, not only the last.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import {
  AMINATA,
  BAKARY,
  confirmPin,
  HOUSEHOLD,
  inbox,
  ledger,
  MOUSSA,
  PENDING_1250,
  paymentsOf,
  QUOTE_1250,
  refusePrompt,
  STARTED_FR,
  settle,
  ussd,
  wallet,
} from './support.ts';

const MAIN_FR = `CON Kénéya Sabatili
1 Ma couverture
2 Cotiser
3 Mes paiements
4 Alertes SMS
5 Etre rappelé par UTM
6 Langue / Kan`;

const MAIN_BM = `CON Kénéya Sabatili
1 N ka lakanali
2 Bolomafara sara
3 N ka saraliw
4 Hakilijigin SMS
5 UTM ka n wele
6 Langue / Kan`;

const CHOOSE_MOUSSA = `CON Cotiser par Orange Money. Combien?
1 Payer 1 250 FCFA jusqu'au 31/05/2026
2 Payer 4 750 FCFA jusqu'au 31/07/2026
3 Autre montant
4 Pour un autre ménage
0 Retour`;

const CHOOSE_AMINATA = `CON Cotiser par Orange Money. Combien?
1 Payer 2 000 FCFA jusqu'au 30/04/2026
2 Payer 3 500 FCFA jusqu'au 31/05/2026
3 Autre montant
4 Pour un autre ménage
0 Retour`;

const CHOOSE_BAKARY = `CON Bolomafara sara Orange Money fè. Joli?
1 Wari 2 000 FCFA fo 30/04/2026
2 Wari 6 000 FCFA fo 30/06/2026
3 Hakè wèrè
4 Denbaya wèrè ye
0 Kòsegin`;

const ENTER_AMOUNT = `CON Tapez le montant en chiffres.
Minimum 100 FCFA
Maximum 500 000 FCFA
0 Retour 00 Menu`;

/** The quote for 1 000 FCFA from household 1: amount, fee, total, who pays the fee, what remains for May. */
const QUOTE_1000 = `CON Somme: 1 000 FCFA
Frais: 50 FCFA, par vous
Total: 1 050 FCFA
Reste 250 FCFA pour mai
1 Confirmer
2 Annuler
0 Retour 00 Menu`;

const QUOTE_AMINATA_500 = `CON Somme: 500 FCFA
Frais: 50 FCFA, par vous
Total: 550 FCFA
Pas couvert avant le 09/04/2026
1 Confirmer
2 Annuler
0 Retour 00 Menu`;

const QUOTE_BAKARY_2000 = `CON Wari: 2 000 FCFA
Musaka: 100 FCFA (i ta)
A bèè: 2 100 FCFA
Lakanalen fo 30/04/2026
1 Sèmèntiya
2 Ayi
0 Kòsegin 00 Nyè fòlò`;

const STARTED_BM = 'END Sarali nyininna. Orange Money bèna i ka gundo nimòrò nyini. SMS bèna sarali sèmèntiya.';

const PENDING_CANCELLED = "END Paiement en attente annulé. Rien n'a été débité.";

const COVERAGE_MOUSSA = (remaining: string) => `CON Moussa Traoré, 5 pers.
Couvert jusqu'au 30/04/2026
Reste ${remaining} pour mai
1 Bénéficiaires
2 Cotiser
0 Retour`;

const COVERAGE_AMINATA = `CON Aminata Sangaré: non couvert
Couverture finie le 31/07/2025
Payez 500 FCFA
pour reprendre
1 Bénéficiaires
2 Cotiser
0 Retour`;

// The SMS as the phones receive them (folded to GSM-7: ɔ→ò, ɛ→è).
const SMS = {
  receiptPartial: (ref: string) =>
    `Kénéya Sabatili: recu 1 000 FCFA (frais 50 FCFA) pour Moussa T., reste\n250 FCFA pour couvrir mai. Réf ${ref}`,
  receiptCovered1250: (ref: string) =>
    `Recu 1 250 FCFA (frais 100 FCFA) pour Moussa T., ménage couvert jusqu'au 31/05/2026. Réf ${ref}. Couverture: *384*123*1#`,
  insufficient500:
    'Paiement de 500 FCFA non effectué: solde Orange Money insuffisant. Il faut 550 FCFA avec les frais. Rechargez puis composez *384*123#.',
  refusedBm2000: 'Sarali 2 000 FCFA ma kè: gundo nimòrò ma sòn walima sarali ma sòn. Foyi ma bò. *384*123# wele ka a segin a kan.',
  expired1250: "Paiement de\n1 250 FCFA non confirmé à temps. Rien n'a été débité. Composez *384*123# pour réessayer.",
};

let app: TestApp;
beforeEach(async () => {
  // The simulator's SMS delivery reports are left out: these tests read the inboxes only.
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
});
afterEach(() => app.close());

/** Moussa, from the main menu, asks for the first suggested amount (1 250 FCFA for May) and confirms. */
async function moussaConfirms1250(sessionId: string): Promise<void> {
  const s = ussd(app, MOUSSA, sessionId);
  expect(await s.send()).toBe(MAIN_FR);
  expect(await s.send('2')).toBe(CHOOSE_MOUSSA);
  expect(await s.send('1')).toBe(QUOTE_1250);
  expect(await s.send('1')).toBe(STARTED_FR);
}

describe('+22376000001 contributes 1 000 FCFA from the USSD menu', () => {
  it('sees amount, fee and total first, approves with PIN 1234, gets the receipt, and the coverage screen shows it', async () => {
    const ledgerBefore = ledger(app, HOUSEHOLD[MOUSSA]);
    expect(await wallet(app, MOUSSA)).toEqual({ phone: MOUSSA, balance: 50_000, state: 'active', pinFailures: 0, pending: null });

    const s = ussd(app, MOUSSA, 'e2e-1');
    expect(await s.send()).toBe(MAIN_FR);
    expect(await s.send('2')).toBe(CHOOSE_MOUSSA);
    expect(await s.send('3')).toBe(ENTER_AMOUNT);
    expect(await s.send('1000')).toBe(QUOTE_1000);
    // The quote is on the handset and nothing has moved yet: no payment, no prompt at the operator.
    expect(paymentsOf(app, MOUSSA)).toEqual([]);
    expect((await wallet(app, MOUSSA)).pending).toBeNull();
    expect(await s.send('1')).toBe(STARTED_FR);

    const [payment] = paymentsOf(app, MOUSSA);
    expect(payment).toMatchObject({ householdId: 1, amount: 1000, fee: 50, feeBearer: 'member', total: 1050, status: 'pending' });
    const txnId = payment?.operatorTxnId as string;
    expect(txnId).toMatch(/^MP260310\.0900\.[0-9A-F]{6}$/);

    // The operator prompts for the PIN: the pending debit shows on the wallet, the balance is untouched.
    expect(await wallet(app, MOUSSA)).toEqual({
      phone: MOUSSA,
      balance: 50_000,
      state: 'active',
      pinFailures: 0,
      pending: { txnId, amount: 1000, fee: 50, debit: 1050, merchantReference: payment?.reference, expiresAt: '2026-03-10T09:02:00.000Z' },
    });

    expect(await confirmPin(app, MOUSSA, '1234')).toEqual({
      status: 200,
      json: { txnId, status: 'succeeded', balance: 48_950, walletState: 'active' },
    });
    expect(await settle(app, MOUSSA)).toEqual([SMS.receiptPartial(txnId)]);
    expect((await inbox(app, MOUSSA)).at(-1)).toMatchObject({ to: MOUSSA, segments: 1, status: 'Sent' });

    expect(ledger(app, HOUSEHOLD[MOUSSA])).toEqual([
      ...ledgerBefore,
      { householdId: 1, amount: 1000, fee: 50, channel: 'orange_money', operatorTxnId: txnId, paidOn: '2026-03-10' },
    ]);
    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ status: 'succeeded', operatorTxnId: txnId, failureReason: null }]);
    // The wallet paid the total (amount + fee), once.
    expect(await wallet(app, MOUSSA)).toMatchObject({ balance: 50_000 - 1050, pending: null });

    // A new session: the coverage screen now says 250 FCFA remain for May (1 250 before).
    const again = ussd(app, MOUSSA, 'e2e-2');
    expect(await again.send()).toBe(MAIN_FR);
    expect(await again.send('1')).toBe(COVERAGE_MOUSSA('250 FCFA'));
  });

  it('before the payment the coverage screen asked for 1 250 FCFA for May', async () => {
    const s = ussd(app, MOUSSA, 'e2e-0');
    expect(await s.send()).toBe(MAIN_FR);
    expect(await s.send('1')).toBe(COVERAGE_MOUSSA('1 250 FCFA'));
  });
});

describe('+22376000002 pays more than its wallet holds', () => {
  it('confirms 500 FCFA (550 with the fee, 500 in the wallet): the insufficient-funds SMS, no ledger row, the payment failed', async () => {
    const ledgerBefore = ledger(app, HOUSEHOLD[AMINATA]);
    const s = ussd(app, AMINATA, 'poor-1');
    expect(await s.send()).toBe(MAIN_FR);
    expect(await s.send('2')).toBe(CHOOSE_AMINATA);
    // 500 FCFA buys no care after the lapse, so it is not suggested: typed as another amount.
    expect(await s.send('3')).toMatch(/^CON Tapez le montant en chiffres/);
    expect(await s.send('500')).toBe(QUOTE_AMINATA_500);
    expect(await s.send('1')).toBe(STARTED_FR);

    const txnId = (await wallet(app, AMINATA)).pending?.txnId;
    expect(await confirmPin(app, AMINATA, '1234')).toEqual({
      status: 200,
      json: { txnId, status: 'failed', reason: 'INSUFFICIENT_FUNDS', balance: 500, walletState: 'active' },
    });
    expect(await settle(app, AMINATA)).toEqual([SMS.insufficient500]);

    expect(ledger(app, HOUSEHOLD[AMINATA])).toEqual(ledgerBefore);
    expect(paymentsOf(app, AMINATA)).toMatchObject([
      { amount: 500, fee: 50, total: 550, status: 'failed', failureReason: 'INSUFFICIENT_FUNDS', operatorTxnId: txnId },
    ]);
    expect(await wallet(app, AMINATA)).toMatchObject({ balance: 500, pending: null });

    // Nothing changed for the household, and nothing is left pending: the menu offers amounts again.
    const again = ussd(app, AMINATA, 'poor-2');
    expect(await again.send()).toBe(MAIN_FR);
    expect(await again.send('1')).toBe(COVERAGE_AMINATA);
    expect(await again.send('2')).toBe(CHOOSE_AMINATA);
  });
});

describe('answering the PIN prompt', () => {
  it('a wrong PIN keeps the prompt open (2 tries left, no SMS); the right PIN then pays and the receipt follows', async () => {
    await moussaConfirms1250('pin-1');
    const txnId = (await wallet(app, MOUSSA)).pending?.txnId as string;

    expect(await confirmPin(app, MOUSSA, '0000')).toEqual({ status: 409, json: { error: 'WRONG_PIN', txnId, triesLeft: 2 } });
    expect(await settle(app, MOUSSA)).toEqual([]);
    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ status: 'pending' }]);
    expect(await wallet(app, MOUSSA)).toMatchObject({ balance: 50_000, pinFailures: 1, state: 'active', pending: { txnId } });

    expect(await confirmPin(app, MOUSSA, '1234')).toEqual({
      status: 200,
      json: { txnId, status: 'succeeded', balance: 50_000 - 1350, walletState: 'active' },
    });
    expect(await settle(app, MOUSSA)).toEqual([SMS.receiptCovered1250(txnId)]);
    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ status: 'succeeded', operatorTxnId: txnId }]);
    expect(ledger(app, HOUSEHOLD[MOUSSA]).filter((r) => r.operatorTxnId === txnId)).toEqual([
      { householdId: 1, amount: 1250, fee: 100, channel: 'orange_money', operatorTxnId: txnId, paidOn: '2026-03-10' },
    ]);
    expect(await wallet(app, MOUSSA)).toMatchObject({ pinFailures: 0, pending: null });
  });

  it('refusing the prompt (Bambara member): the refused SMS in Bambara, nothing debited, no ledger row', async () => {
    const ledgerBefore = ledger(app, HOUSEHOLD[BAKARY]);
    const s = ussd(app, BAKARY, 'refuse-1');
    expect(await s.send()).toBe(MAIN_BM);
    expect(await s.send('2')).toBe(CHOOSE_BAKARY);
    expect(await s.send('1')).toBe(QUOTE_BAKARY_2000);
    expect(await s.send('1')).toBe(STARTED_BM);
    const txnId = (await wallet(app, BAKARY)).pending?.txnId;

    expect(await refusePrompt(app, BAKARY)).toEqual({
      status: 200,
      json: { txnId, status: 'failed', reason: 'REFUSED', balance: 20_000, walletState: 'active' },
    });
    expect(await settle(app, BAKARY)).toEqual([SMS.refusedBm2000]);
    expect(paymentsOf(app, BAKARY)).toMatchObject([{ status: 'failed', failureReason: 'REFUSED', operatorTxnId: txnId }]);
    expect(ledger(app, HOUSEHOLD[BAKARY])).toEqual(ledgerBefore);
    expect(await wallet(app, BAKARY)).toMatchObject({ balance: 20_000, pending: null });
  });

  it('a prompt left unanswered past PAYMENT_EXPIRY_SECONDS expires: the expired SMS, nothing debited, a late PIN finds nothing', async () => {
    const expiryMs = app.services.config.PAYMENT_EXPIRY_SECONDS * 1000;
    await moussaConfirms1250('expiry-1');
    const ledgerBefore = ledger(app, HOUSEHOLD[MOUSSA]);

    // One second before its time, the sweep leaves the prompt alone.
    app.clock.advance(expiryMs - 1000);
    expect(app.services.orange.expireDue()).toBe(0);
    expect(await settle(app, MOUSSA)).toEqual([]);
    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ status: 'pending' }]);

    app.clock.advance(2000);
    expect(app.services.orange.expireDue()).toBe(1);
    expect(await settle(app, MOUSSA)).toEqual([SMS.expired1250]);
    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ status: 'expired', failureReason: 'EXPIRED' }]);
    expect(ledger(app, HOUSEHOLD[MOUSSA])).toEqual(ledgerBefore);
    expect(await wallet(app, MOUSSA)).toMatchObject({ balance: 50_000, pending: null });
    expect(await confirmPin(app, MOUSSA, '1234')).toEqual({ status: 404, json: { error: 'NO_PENDING_PAYMENT' } });
    expect(await settle(app, MOUSSA)).toEqual([]);
  });
});

describe('a payment already waiting for the PIN', () => {
  it('a second attempt shows the pending payment; cancelling it ends it in sabatili, debits nothing and sends no SMS', async () => {
    await moussaConfirms1250('pending-1');

    const b = ussd(app, MOUSSA, 'pending-2');
    expect(await b.send()).toBe(MAIN_FR);
    expect(await b.send('2')).toBe(PENDING_1250);
    expect(await b.send('1')).toBe(PENDING_CANCELLED);

    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ amount: 1250, status: 'cancelled', failureReason: 'cancelled by the member' }]);
    expect(app.services.payments.pendingFor(MOUSSA)).toBeUndefined();
    expect(await settle(app, MOUSSA)).toEqual([]);
    expect((await wallet(app, MOUSSA)).balance).toBe(50_000);

    // The next visit offers the amounts again instead of the pending payment.
    const c = ussd(app, MOUSSA, 'pending-3');
    expect(await c.send()).toBe(MAIN_FR);
    expect(await c.send('2')).toBe(CHOOSE_MOUSSA);
  });

  it("cancelling in sabatili withdraws the operator's prompt too, so the member can pay again at once", async () => {
    await moussaConfirms1250('late-1');
    const b = ussd(app, MOUSSA, 'late-2');
    expect(await b.send()).toBe(MAIN_FR);
    expect(await b.send('2')).toBe(PENDING_1250);
    expect(await b.send('1')).toBe(PENDING_CANCELLED);
    expect((await wallet(app, MOUSSA)).pending).toBeNull();
    // The operator's refusal of the withdrawn prompt changes nothing and sends no SMS.
    expect(await settle(app, MOUSSA)).toEqual([]);
    expect(paymentsOf(app, MOUSSA)).toMatchObject([{ status: 'cancelled' }]);

    await moussaConfirms1250('late-3');
    expect(
      paymentsOf(app, MOUSSA)
        .map((p) => p.status)
        .sort(),
    ).toEqual(['cancelled', 'pending']);
  });

  it('two sessions of the same phone confirming at the same instant: exactly one pending payment, the other sees it', async () => {
    const a = ussd(app, MOUSSA, 'race-a');
    const b = ussd(app, MOUSSA, 'race-b');
    // Both open at the main menu (a session still at the menu is not offered for resumption), then both reach the quote.
    expect(await a.send()).toBe(MAIN_FR);
    expect(await b.send()).toBe(MAIN_FR);
    expect(await a.send('2')).toBe(CHOOSE_MOUSSA);
    expect(await b.send('2')).toBe(CHOOSE_MOUSSA);
    expect(await a.send('1')).toBe(QUOTE_1250);
    expect(await b.send('1')).toBe(QUOTE_1250);

    const screens = await Promise.all([a.send('1'), b.send('1')]);
    expect(screens.sort()).toEqual([PENDING_1250, STARTED_FR].sort());

    const payments = paymentsOf(app, MOUSSA);
    expect(payments).toHaveLength(1);
    expect(payments).toMatchObject([{ amount: 1250, total: 1350, status: 'pending' }]);
    // The operator holds exactly one prompt, for that payment.
    expect((await wallet(app, MOUSSA)).pending).toMatchObject({ merchantReference: payments[0]?.reference, debit: 1350 });
    const pendingAtOperator = app.services.db
      .prepare("SELECT COUNT(*) FROM sim_transactions WHERE msisdn = ? AND status = 'pending'")
      .pluck()
      .get(MOUSSA);
    expect(pendingAtOperator).toBe(1);
  });
});

describe('a lapsed household paid for from another phone: what is true is said, on the quote, the receipts and the coverage screen', () => {
  const CHOOSE_FOR_AMINATA = `CON Cotiser pour le ménage de Aminata S.: combien?
1 Payer 2 000 FCFA jusqu'au 30/04/2026
2 Payer 3 500 FCFA jusqu'au 31/05/2026
3 Autre montant
0 Retour`;
  const CONFIRM_AMINATA = `CON Ménage de Aminata S.
Mutuelle Sabatili de Niéna
Est-ce le bon ménage?
1 Oui
2 Non
0 Retour 00 Menu`;

  /** Moussa, from the main menu, pays for Aminata's household found by what he types, then `pick` (a suggestion, or '3' and an amount). */
  async function moussaPaysForAminata(sessionId: string, typed: string, ...pick: string[]) {
    const s = ussd(app, MOUSSA, sessionId);
    expect(await s.send()).toBe(MAIN_FR);
    expect(await s.send('2')).toBe(CHOOSE_MOUSSA);
    expect(await s.send('4')).toBe('CON Numéro de téléphone ou de carte du ménage à payer:\n0 Retour 00 Menu');
    expect(await s.send(typed)).toBe(CONFIRM_AMINATA);
    expect(await s.send('1')).toBe(CHOOSE_FOR_AMINATA);
    for (const p of pick.slice(0, -1)) await s.send(p);
    return { s, quote: await s.send(pick.at(-1) as string) };
  }

  it('3 500 FCFA by her phone number as typed on a handset: care covered from the end of the waiting period, never "covered" before it', async () => {
    const { s, quote } = await moussaPaysForAminata('for-1', '76 00 00 02', '2');
    // Paid through 31/05, but the 30-day waiting period of the restart runs to 08/04.
    expect(quote).toBe(`CON Somme: 3 500 FCFA
Frais: 100 FCFA, par vous
Total: 3 600 FCFA
Couvert: 09/04/2026
au 31/05/2026
1 Confirmer
2 Annuler
0 Retour 00 Menu`);
    expect(await s.send('1')).toBe(STARTED_FR);
    const txnId = (await wallet(app, MOUSSA)).pending?.txnId as string;
    expect((await confirmPin(app, MOUSSA, '1234')).status).toBe(200);

    // The payer and the household's head each get the receipt naming the household.
    const receipt = `Recu 3 500 FCFA (frais 100 FCFA) pour Aminata S., pas encore couvert: soins couverts du 09/04/2026 au 31/05/2026. Réf ${txnId}`;
    expect(await settle(app, MOUSSA)).toEqual([receipt]);
    expect((await inbox(app, AMINATA)).map((m) => m.text)).toEqual([receipt]);
    expect(ledger(app, HOUSEHOLD[AMINATA]).at(-1)).toMatchObject({ householdId: 2, amount: 3500, paidOn: '2026-03-10' });

    // Her coverage screen afterwards: not yet covered, care covered from 09/04.
    const a = ussd(app, AMINATA, 'for-1a');
    await a.send();
    expect(await a.send('1')).toBe(`CON Aminata Sangaré: pas encore couvert
Soins couverts dès le 09/04/2026
Reste 1 500 FCFA pour juin
1 Bénéficiaires
2 Cotiser
0 Retour`);
  });

  it('500 FCFA by her card digits (0002): the quote says care is not covered before 09/04, the receipt what is still needed', async () => {
    const { s, quote } = await moussaPaysForAminata('for-2', '0002', '3', '500');
    // 500 FCFA restarts March only; the waiting period ends after it: no care is covered by this payment alone.
    expect(quote).toBe(`CON Somme: 500 FCFA
Frais: 50 FCFA, par vous
Total: 550 FCFA
Pas couvert avant le 09/04/2026
1 Confirmer
2 Annuler
0 Retour 00 Menu`);
    expect(await s.send('1')).toBe(STARTED_FR);
    const txnId = (await wallet(app, MOUSSA)).pending?.txnId as string;
    expect((await confirmPin(app, MOUSSA, '1234')).status).toBe(200);
    const receipt = `Recu 500 FCFA (frais 50 FCFA) pour Aminata S., couvert dès le 09/04/2026 si 1 500 FCFA payés avant le 09/04/2026. Réf ${txnId}`;
    expect(await settle(app, MOUSSA)).toEqual([receipt]);
    expect((await inbox(app, AMINATA)).map((m) => m.text)).toEqual([receipt]);

    const a = ussd(app, AMINATA, 'for-2a');
    await a.send();
    expect(await a.send('1')).toBe(`CON Aminata Sangaré: non couvert
Payez 1 500 FCFA
avant le 09/04/2026:
soins couverts dès le 09/04/2026
1 Bénéficiaires
2 Cotiser
0 Retour`);
  });

  it('card digits shared by two cards are not guessed: the member is asked for the phone number', async () => {
    const aminata = app.services.households.findByPhone(AMINATA);
    app.services.households.create(
      {
        cardNumber: 'SIK-ZAN-0002',
        adherentName: 'Sekou Dembélé',
        phone: '+22376000099',
        language: 'fr',
        mutuelleId: aminata?.mutuelleId as string,
        joinedOn: '2026-01-05',
        beneficiaries: [{ name: 'Sekou Dembélé', relation: 'adherent', subsidised: false }],
      },
      app.clock.now(),
    );
    const s = ussd(app, MOUSSA, 'for-3');
    await s.send();
    await s.send('2');
    await s.send('4');
    expect(await s.send('0002')).toBe(`CON Plusieurs cartes ont ces chiffres. Tapez le téléphone du ménage.
Numéro de téléphone ou de carte du ménage à payer:
0 Retour 00 Menu`);
    expect(await s.send('sik-nie 0002')).toBe(CONFIRM_AMINATA);
  });
});
