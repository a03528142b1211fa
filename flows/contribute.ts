import { assign, setup } from 'xstate';
import {
  type Choice,
  choice,
  choiceValue,
  type FlowEvent,
  type FlowInput,
  failedState,
  flowTypes,
  handOff,
  hopOf,
  loadingFor,
  outputOf,
  provided,
  slowState,
  type WithError,
} from './lib.ts';

/** What the member may pay, computed for the household from its coverage. */
export interface Suggestion {
  kind: 'thisMonth' | 'nextMonth' | 'threeMonths' | 'restOfYear';
  amount: number;
  /** The last day this amount pays for (the end of its last month). */
  until: string;
}

export interface ContributionOptions {
  /** The caller has an Orange Money wallet linked at UTM's office. */
  wallet: boolean;
  /** A payment from this wallet still waiting for the PIN. */
  pending: { amount: number; total: number } | null;
  suggestions: Suggestion[];
  min: number;
  max: number;
}

/** The quote: everything the member sees before any money moves. */
export interface QuoteView {
  amount: number;
  fee: number;
  total: number;
  feeBearer: 'member' | 'utm';
  /**
   * What the payment does to the coverage (src/domain/quote.ts paymentEffect): `covered` until
   * `coveredThrough`; `waiting`: paid until `coveredThrough`, care covered from `coveredFrom`;
   * `waitingUnpaid`: care not covered before `coveredFrom` (more is needed); `partial`:
   * `remaining` still remains for `nextMonth`.
   */
  effect: 'covered' | 'waiting' | 'waitingUnpaid' | 'partial';
  /** The new paid-through date when the payment completes a month, else null. */
  coveredThrough: string | null;
  /** The first day care is covered when a waiting period applies after this payment, else null. */
  coveredFrom: string | null;
  remaining: number;
  nextMonth: string;
}

/** What the member typed as an amount: digits, with spaces or dots between thousands (`1 000`, `1.000`); null for anything else (letters, decimals). */
export function parseAmount(typed: string): number | null {
  const v = typed.trim();
  if (/^\d{1,7}$/.test(v)) return Number(v);
  // Thousands separated by spaces or by dots, groups of exactly three digits: 1 000, 25.000, 1.000.000 (not 1.5, 10.50, 1,000).
  if (/^\d{1,3}(?:( |\.)\d{3})(?:\1\d{3})*$/.test(v)) {
    const digits = v.replace(/[ .]/g, '');
    return digits.length <= 7 ? Number(digits) : null;
  }
  return null;
}

export interface TargetHousehold {
  householdId: number;
  /** First name and initial only: enough for a relative to recognise, not to identify. */
  maskedName: string;
  mutuelle: string;
}

/**
 * What confirming a quote did. `paid`, `review`, `pendingExists` and `rejected` also answer a
 * quote confirmed before (a retried hop, a resumed session): a quote only ever makes one payment.
 * `uncertain`: recorded, but the operator could not be reached; the recovery sweep asks again.
 */
export type StartResult =
  | { status: 'pending' }
  | { status: 'pendingExists'; amount: number; total: number }
  | { status: 'rejected' }
  | { status: 'paid' }
  | { status: 'review' }
  | { status: 'uncertain' };

interface Context extends FlowInput, WithError {
  options: ContributionOptions | null;
  /** The household paid for: the caller's own, or a relative's found by its head's phone number or its card. */
  target: TargetHousehold | null;
  amount: number;
  quote: QuoteView | null;
  /** Names the quote on screen; the payment's key, so that confirming it twice pays once. */
  quoteId: string | null;
  /** What confirming the quote did (or had done, when the member comes back to it). */
  outcome: StartResult | null;
}

const payFor = (c: Context) => c.target?.householdId ?? c.householdId ?? 0;

function amountChoices(c: Context): Choice[] {
  // Each label starts with a word and says the day the amount pays up to: "1 Payer 3 000 FCFA jusqu'au 31/05/2026",
  // never "1 3 000 FCFA pour mai" (read as 13 000, and "pour mai" hid that it also paid April).
  const suggested = (c.options?.suggestions ?? []).map(
    (s): Choice => ({
      value: `amount:${s.amount}`,
      labelKey: 'contribute.option.through',
      labelParams: { amount: s.amount, until: s.until },
    }),
  );
  return [...suggested, choice('other', 'contribute.other'), ...(c.target ? [] : [choice('forOther', 'contribute.forOther')])];
}

const quoteKey = (c: Context) => `quote:${c.quoteId ?? ''}`;

/** A new quote is named by the session and hop that asked for it: unique, and kept in the snapshot across resumes. */
const quoteIdOf = (c: Context, event: FlowEvent) => `${c.sessionId}.${hopOf(event)}`;

const quoteParams = (c: Context) => {
  const q = c.quote as QuoteView;
  return {
    amount: q.amount,
    fee: q.fee,
    bearer: q.feeBearer,
    total: q.total,
    until: q.coveredThrough ?? '',
    from: q.coveredFrom ?? '',
    remaining: q.remaining,
    month: q.nextMonth,
  };
};

/** A call cut on the quote is offered again on redial, with the amount. */
const resumeQuote = { key: 'resume.quote' as const, params: (c: Context) => ({ amount: c.quote?.amount ?? c.amount }) };

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    prepareContribution: provided<ContributionOptions, { householdId: number; phone: string }>('prepareContribution'),
    quoteContribution: provided<QuoteView, { householdId: number; amount: number }>('quoteContribution'),
    startContribution: provided<StartResult, { householdId: number; phone: string; amount: number; key: string }>('startContribution'),
    paymentOfQuote: provided<StartResult | null, { key: string }>('paymentOfQuote'),
    cancelPending: provided<void, { phone: string }>('cancelPending'),
    findHousehold: provided<TargetHousehold | 'ambiguous' | null, { card: string }>('findHousehold'),
  },
  guards: {
    noWallet: (_, options: ContributionOptions) => !options.wallet,
    paymentAwaitingPin: (_, options: ContributionOptions) => options.pending !== null,
    payingForOther: ({ context }) => context.target !== null,
    amountAccepted: ({ context, event }) => {
      const n = parseAmount('value' in event ? event.value : '');
      return n !== null && n >= (context.options?.min ?? 1) && n <= (context.options?.max ?? Infinity);
    },
    /** An amount, but below the minimum or above the maximum (tried after amountAccepted). */
    amountOutOfRange: ({ event }) => 'value' in event && parseAmount(event.value) !== null,
    cardUnknown: (_, found: TargetHousehold | 'ambiguous' | null) => found === null,
    cardAmbiguous: (_, found: TargetHousehold | 'ambiguous' | null) => found === 'ambiguous',
    paymentEffect: ({ context }, effect: QuoteView['effect']) => context.quote?.effect === effect,
    quoteNeverConfirmed: (_, result: StartResult | null) => result === null,
    quoteRefused: (_, result: StartResult | null) => result?.status === 'rejected',
    confirmOutcome: ({ context }, status: StartResult['status']) => context.outcome?.status === status,
  },
});
const loading = loadingFor(flow);

/**
 * Contributing any amount by Orange Money. The member always sees amount, fee, total and what
 * the payment does to the coverage before confirming; the operator then asks for the secret code
 * on the handset: sabatili never asks for a PIN.
 */
export const contributeMachine = flow.createMachine({
  id: 'contribute',
  context: ({ input }) => ({ ...input, options: null, target: null, amount: 0, quote: null, quoteId: null, outcome: null, error: null }),
  initial: 'loading',
  output: handOff,
  states: {
    loading: loading({
      src: 'prepareContribution',
      input: ({ context }) => ({ householdId: payFor(context), phone: context.phone }),
      onDone: [
        { guard: { type: 'noWallet', params: outputOf }, target: 'noWallet', actions: assign({ options: ({ event }) => event.output }) },
        {
          guard: { type: 'paymentAwaitingPin', params: outputOf },
          target: 'pendingExists',
          actions: assign({ options: ({ event }) => event.output }),
        },
        { target: 'choose', actions: assign({ options: ({ event }) => event.output }) },
      ],
      slow: 'slow',
    }),
    slow: slowState('loading'),
    failed: failedState,
    noWallet: {
      meta: { screen: 'contribute.noWallet', choices: [choice('callback', 'contribute.callMe')] },
      on: { 'choice.callback': 'toCallback' },
    },
    pendingExists: {
      meta: {
        screen: 'contribute.pending',
        params: (c) => ({ amount: c.options?.pending?.amount ?? 0, total: c.options?.pending?.total ?? 0 }),
        choices: [choice('cancelPending', 'contribute.cancelPending')],
      },
      on: { 'choice.cancelPending': 'cancelling' },
    },
    cancelling: loading({
      src: 'cancelPending',
      input: ({ context }) => ({ phone: context.phone }),
      onDone: 'pendingCancelled',
      slow: 'cancellingSlow',
    }),
    cancellingSlow: slowState('cancelling'),
    pendingCancelled: { type: 'final', meta: { screen: 'contribute.pendingCancelled', end: true } },
    choose: {
      // Paying for another household, the screen names it (first name and initials) again.
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'payingForOther', target: 'forOther' }, { target: 'own' }] },
        own: { meta: { screen: 'contribute.choose', choices: amountChoices } },
        forOther: {
          meta: { screen: 'contribute.chooseFor', params: (c) => ({ name: c.target?.maskedName ?? '' }), choices: amountChoices },
        },
      },
      on: {
        'choice.other': { target: 'enterAmount', actions: assign({ error: null }) },
        'choice.forOther': { target: 'enterCard', actions: assign({ error: null }) },
        'choice.*': {
          target: 'quoting',
          actions: assign({
            amount: ({ event }) => Number(choiceValue(event).slice('amount:'.length)),
            quoteId: ({ context, event }) => quoteIdOf(context, event),
            error: null,
          }),
        },
      },
    },
    enterAmount: {
      meta: {
        screen: 'contribute.enterAmount',
        input: 'text',
        hint: 'contribute.amountDigits',
        resume: { key: 'resume.contribute' },
        params: (c) => ({ min: c.options?.min ?? 0, max: c.options?.max ?? 0 }),
      },
      on: {
        text: [
          {
            guard: 'amountAccepted',
            target: 'quoting',
            actions: assign({
              amount: ({ event }) => parseAmount('value' in event ? event.value : '') ?? 0,
              quoteId: ({ context, event }) => quoteIdOf(context, event),
              error: null,
            }),
          },
          { guard: 'amountOutOfRange', actions: assign({ error: 'contribute.amountRange' }) },
          { actions: assign({ error: 'contribute.amountDigits' }) },
        ],
        back: 'choose',
      },
    },
    enterCard: {
      meta: { screen: 'contribute.enterCard', input: 'text', resume: { key: 'resume.contribute' } },
      on: {
        text: { target: 'finding', actions: assign({ error: null }) },
        back: 'choose',
      },
    },
    finding: loading({
      src: 'findHousehold',
      input: ({ event }) => ({ card: 'value' in event ? event.value : '' }),
      onDone: [
        { guard: { type: 'cardUnknown', params: outputOf }, target: 'enterCard', actions: assign({ error: 'contribute.cardUnknown' }) },
        // Only a card's digits, and several cards have them: ask for the head's phone number.
        { guard: { type: 'cardAmbiguous', params: outputOf }, target: 'enterCard', actions: assign({ error: 'contribute.cardAmbiguous' }) },
        { target: 'confirmTarget', actions: assign({ target: ({ event }) => event.output as TargetHousehold }) },
      ],
      slow: 'findingSlow',
    }),
    findingSlow: slowState('enterCard'),
    confirmTarget: {
      meta: {
        screen: 'contribute.confirmTarget',
        resume: { key: 'resume.contribute' },
        params: (c) => ({ name: c.target?.maskedName ?? '', mutuelle: c.target?.mutuelle ?? '' }),
        choices: [choice('yes', 'contribute.yes'), choice('no', 'contribute.no')],
      },
      on: {
        'choice.yes': 'loading',
        'choice.no': { target: 'enterCard', actions: assign({ target: null }) },
        back: { target: 'enterCard', actions: assign({ target: null }) },
      },
    },
    quoting: loading({
      src: 'quoteContribution',
      input: ({ context }) => ({ householdId: payFor(context), amount: context.amount }),
      onDone: { target: 'quote', actions: assign({ quote: ({ event }) => event.output }) },
      slow: 'quotingSlow',
    }),
    quotingSlow: slowState('quoting'),
    quote: {
      initial: 'deciding',
      on: {
        'choice.confirm': 'starting',
        'choice.cancel': 'cancelled',
        back: 'choose',
        // Back on this quote after a cut-off call: if it was confirmed before, show that payment, not the quote.
        resumed: 'checkingQuote',
      },
      states: {
        // One message per effect: "covered until" only when care is covered, never during a waiting period.
        deciding: {
          always: [
            { guard: { type: 'paymentEffect', params: 'covered' }, target: 'covered' },
            { guard: { type: 'paymentEffect', params: 'waiting' }, target: 'waiting' },
            { guard: { type: 'paymentEffect', params: 'waitingUnpaid' }, target: 'waitingUnpaid' },
            { target: 'partial' },
          ],
        },
        covered: {
          meta: {
            screen: 'contribute.quote.covered',
            params: quoteParams,
            choices: [choice('confirm', 'contribute.confirm'), choice('cancel', 'contribute.cancel')],
            quote: true,
            resume: resumeQuote,
          },
        },
        waiting: {
          meta: {
            screen: 'contribute.quote.waiting',
            params: quoteParams,
            choices: [choice('confirm', 'contribute.confirm'), choice('cancel', 'contribute.cancel')],
          },
        },
        waitingUnpaid: {
          meta: {
            screen: 'contribute.quote.waitingUnpaid',
            params: quoteParams,
            choices: [choice('confirm', 'contribute.confirm'), choice('cancel', 'contribute.cancel')],
          },
        },
        partial: {
          meta: {
            screen: 'contribute.quote.partial',
            params: quoteParams,
            choices: [choice('confirm', 'contribute.confirm'), choice('cancel', 'contribute.cancel')],
            quote: true,
            resume: resumeQuote,
          },
        },
      },
    },
    checkingQuote: loading({
      src: 'paymentOfQuote',
      input: ({ context }) => ({ key: quoteKey(context) }),
      onDone: [
        { guard: { type: 'quoteNeverConfirmed', params: outputOf }, target: 'quote' },
        { guard: { type: 'quoteRefused', params: outputOf }, target: 'quoteClosed' },
        { target: 'outcome', actions: assign({ outcome: ({ event }) => event.output }) },
      ],
      slow: 'checkingSlow',
    }),
    checkingSlow: slowState('checkingQuote'),
    quoteClosed: {
      meta: { screen: 'contribute.quoteClosed', choices: [choice('again', 'contribute.newPayment')] },
      on: { 'choice.again': { target: 'loading', actions: assign({ quote: null, quoteId: null }) } },
    },
    starting: loading({
      src: 'startContribution',
      input: ({ context }) => ({ householdId: payFor(context), phone: context.phone, amount: context.amount, key: quoteKey(context) }),
      onDone: { target: 'outcome', actions: assign({ outcome: ({ event }) => event.output }) },
      // A payment request cannot be retried blindly: the member redials and sees it pending.
      slow: 'startSlow',
    }),
    outcome: {
      always: [
        { guard: { type: 'confirmOutcome', params: 'pending' }, target: 'started' },
        {
          guard: { type: 'confirmOutcome', params: 'pendingExists' },
          target: 'pendingExists',
          actions: assign({
            options: ({ context }) =>
              context.outcome?.status === 'pendingExists' && context.options
                ? { ...context.options, pending: { amount: context.outcome.amount, total: context.outcome.total } }
                : context.options,
          }),
        },
        { guard: { type: 'confirmOutcome', params: 'paid' }, target: 'alreadyPaid' },
        { guard: { type: 'confirmOutcome', params: 'review' }, target: 'inReview' },
        { guard: { type: 'confirmOutcome', params: 'uncertain' }, target: 'startSlow' },
        { target: 'rejected' },
      ],
    },
    startSlow: { type: 'final', meta: { screen: 'contribute.startSlow', end: true } },
    started: { type: 'final', meta: { screen: 'contribute.started', end: true } },
    rejected: { type: 'final', meta: { screen: 'contribute.rejected', end: true } },
    alreadyPaid: { type: 'final', meta: { screen: 'contribute.alreadyPaid', end: true } },
    inReview: { type: 'final', meta: { screen: 'contribute.inReview', end: true } },
    cancelled: { type: 'final', meta: { screen: 'contribute.cancelled', end: true } },
    toCallback: { type: 'final', output: { next: 'callback' } },
  },
});
