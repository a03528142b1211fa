import { assign, setup } from 'xstate';
import {
  allowedAmount,
  type CarePatient,
  type CareTariff,
  type MemberCheck,
  type VisitOutcome,
  type VisitRequest,
} from '../src/domain/care.ts';
import { parseAmount } from './contribute.ts';
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
  provided,
  slowState,
  type WithError,
} from './lib.ts';

/** A member found and served by the agent's facility. */
export type FoundMember = Extract<MemberCheck, { kind: 'found' }>;

interface Context extends FlowInput, WithError {
  facility: string;
  member: FoundMember | null;
  /** The mutuelle of a member the facility does not serve. */
  mutuelle: string;
  patient: CarePatient | null;
  care: CareTariff | null;
  days: number;
  amount: number;
  visitKey: string | null;
  outcome: VisitOutcome | null;
}

const AFTER_PATIENT = { patient: null, care: null, days: 1, amount: 0, visitKey: null, outcome: null, error: null } as const;
const NEXT_MEMBER = { member: null, mutuelle: '', ...AFTER_PATIENT } as const;

/** A patient as the agent tells them apart: first name and birth year (nothing else of the household). */
const patientName = (p: CarePatient | null) => (p ? `${p.firstName}${p.birthYear ? ` ${p.birthYear}` : ''}` : '');

function patientChoices(c: Context): Choice[] {
  return (c.member?.patients ?? []).map((p) => ({
    value: `patient:${p.beneficiaryId}`,
    labelKey: p.covered ? 'facility.patient.yes' : 'facility.patient.no',
    labelParams: { name: patientName(p) },
  }));
}

function careChoices(c: Context): Choice[] {
  return (c.member?.cares ?? []).map((t) => ({
    value: `care:${t.care}`,
    labelKey: t.unit === 'day' ? 'facility.care.perDay' : 'facility.care.perVisit',
    labelParams: { care: t.care, amount: t.tariff },
  }));
}

const pickedPatient = (c: Context, event: FlowEvent) =>
  c.member?.patients.find((p) => `patient:${p.beneficiaryId}` === choiceValue(event)) ?? null;
const pickedCare = (c: Context, event: FlowEvent) => c.member?.cares.find((t) => `care:${t.care}` === choiceValue(event)) ?? null;
const maxAmount = (c: Context) => (c.care ? allowedAmount(c.care, c.days) : 0);
const typed = (event: FlowEvent) => ('value' in event ? event.value : '');

const memberParams = (c: Context) => ({ until: c.member?.until ?? '', from: c.member?.from ?? '' });
const confirmParams = (c: Context) => ({
  date: c.member?.day ?? '',
  name: patientName(c.patient),
  care: c.care?.care ?? '',
  days: c.days,
  amount: c.amount,
});
const confirmChoices = [choice('record', 'facility.record'), choice('cancel', 'facility.cancel')];
const nextChoice = [choice('next', 'facility.next')];

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    loadFacility: provided<string, { agentId: number }>('loadFacility'),
    findMember: provided<MemberCheck, { agentId: number; typed: string }>('findMember'),
    recordVisit: provided<VisitOutcome, VisitRequest>('recordVisit'),
  },
  guards: {
    memberIs: (_, p: { found: MemberCheck; kind: MemberCheck['kind'] }) => p.found.kind === p.kind,
    situation: ({ context }, kind: FoundMember['situation']) => context.member?.situation === kind,
    patientCovered: ({ context, event }) => pickedPatient(context, event)?.covered === true,
    patientListed: ({ context, event }) => pickedPatient(context, event) !== null,
    careListed: ({ context, event }) => pickedCare(context, event) !== null,
    perDay: ({ context }) => context.care?.unit === 'day',
    careIsPerDay: ({ context, event }) => pickedCare(context, event)?.unit === 'day',
    daysAccepted: ({ context, event }) => {
      const n = parseAmount(typed(event));
      return n !== null && n >= 1 && n <= (context.care?.maxDays ?? 1);
    },
    amountAccepted: ({ context, event }) => {
      const n = parseAmount(typed(event));
      return n !== null && n >= 1 && n <= maxAmount(context);
    },
    /** A whole number, but above what the tariff allows (tried after amountAccepted). */
    amountAbove: ({ context, event }) => (parseAmount(typed(event)) ?? 0) > maxAmount(context),
    outcome: ({ context }, expected: 'recorded' | 'cover' | 'tariff') =>
      context.outcome?.status === 'recorded' ? expected === 'recorded' : context.outcome?.reason === expected,
  },
});
const loading = loadingFor(flow);

/**
 * The facility menu, for a registered agent of a health facility dialling the service code: find a
 * member by the head's phone or card, see whether care is covered today and the patients (first name,
 * birth year, covered or not), then record a visit as a claim (the kind of care from the product's
 * tariffs, the days for care paid per day, the amount up to the tariff), confirmed once.
 */
export const facilityMachine = flow.createMachine({
  id: 'facility',
  context: ({ input }) => ({ ...input, facility: '', ...NEXT_MEMBER }),
  initial: 'loading',
  output: handOff,
  states: {
    loading: loading({
      src: 'loadFacility',
      input: ({ context }) => ({ agentId: context.agentId ?? 0 }),
      onDone: { target: 'find', actions: assign({ facility: ({ event }) => event.output }) },
      slow: 'slow',
    }),
    slow: slowState('loading'),
    failed: failedState,
    find: {
      meta: { screen: 'facility.find', params: (c) => ({ facility: c.facility }), input: 'text' },
      on: { text: { target: 'finding', actions: assign({ error: null }) } },
    },
    finding: loading({
      src: 'findMember',
      input: ({ context, event }) => ({ agentId: context.agentId ?? 0, typed: typed(event as FlowEvent) }),
      onDone: [
        {
          guard: { type: 'memberIs', params: ({ event }) => ({ found: event.output, kind: 'unknown' }) },
          target: 'find',
          actions: assign({ error: 'facility.unknown' }),
        },
        // Only a card's digits, and several cards have them: the head's phone number tells them apart.
        {
          guard: { type: 'memberIs', params: ({ event }) => ({ found: event.output, kind: 'ambiguous' }) },
          target: 'find',
          actions: assign({ error: 'facility.ambiguous' }),
        },
        {
          guard: { type: 'memberIs', params: ({ event }) => ({ found: event.output, kind: 'notServed' }) },
          target: 'notServed',
          actions: assign({ mutuelle: ({ event }) => (event.output.kind === 'notServed' ? event.output.mutuelle : '') }),
        },
        { target: 'member', actions: assign({ member: ({ event }) => (event.output.kind === 'found' ? event.output : null) }) },
      ],
      slow: 'findingSlow',
    }),
    findingSlow: slowState('find'),
    notServed: {
      meta: { screen: 'facility.notServed', params: (c) => ({ mutuelle: c.mutuelle }), choices: nextChoice },
      on: { 'choice.next': { target: 'find', actions: assign(NEXT_MEMBER) }, back: { target: 'find', actions: assign(NEXT_MEMBER) } },
    },
    member: {
      // The member's own situation (src/domain/coverage.ts situationOf), said as OUI or NON for care today.
      initial: 'deciding',
      on: {
        'choice.*': [
          { guard: 'patientCovered', target: 'care', actions: assign({ patient: ({ context, event }) => pickedPatient(context, event) }) },
          {
            guard: 'patientListed',
            target: 'patientNotCovered',
            actions: assign({ patient: ({ context, event }) => pickedPatient(context, event) }),
          },
        ],
        back: { target: 'find', actions: assign(NEXT_MEMBER) },
      },
      states: {
        deciding: {
          always: [
            { guard: { type: 'situation', params: 'active' }, target: 'active' },
            { guard: { type: 'situation', params: 'waiting' }, target: 'waiting' },
            { guard: { type: 'situation', params: 'waitingUnpaid' }, target: 'waitingUnpaid' },
            { guard: { type: 'situation', params: 'never' }, target: 'never' },
            { target: 'ended' },
          ],
        },
        active: { meta: { screen: 'facility.member.active', params: memberParams, choices: patientChoices } },
        waiting: { meta: { screen: 'facility.member.waiting', params: memberParams, choices: patientChoices } },
        waitingUnpaid: { meta: { screen: 'facility.member.waitingUnpaid', params: memberParams, choices: patientChoices } },
        ended: { meta: { screen: 'facility.member.ended', params: memberParams, choices: patientChoices } },
        never: { meta: { screen: 'facility.member.never', params: memberParams, choices: patientChoices } },
      },
    },
    patientNotCovered: {
      meta: { screen: 'facility.patientNotCovered', params: (c) => ({ name: patientName(c.patient) }), choices: nextChoice },
      on: {
        'choice.next': { target: 'find', actions: assign(NEXT_MEMBER) },
        back: { target: 'member', actions: assign(AFTER_PATIENT) },
      },
    },
    care: {
      meta: { screen: 'facility.care', params: (c) => ({ name: patientName(c.patient) }), choices: careChoices },
      on: {
        'choice.*': [
          {
            guard: 'careIsPerDay',
            target: 'days',
            actions: assign({ care: ({ context, event }) => pickedCare(context, event), days: 1, error: null }),
          },
          {
            guard: 'careListed',
            target: 'amount',
            actions: assign({ care: ({ context, event }) => pickedCare(context, event), days: 1, error: null }),
          },
        ],
        back: { target: 'member', actions: assign(AFTER_PATIENT) },
      },
    },
    days: {
      meta: {
        screen: 'facility.days',
        input: 'text',
        hint: 'facility.daysRange',
        params: (c) => ({ care: c.care?.care ?? '', days: c.care?.maxDays ?? 1 }),
      },
      on: {
        text: [
          {
            guard: 'daysAccepted',
            target: 'amount',
            actions: assign({ days: ({ event }) => parseAmount(typed(event)) ?? 1, error: null }),
          },
          { actions: assign({ error: 'facility.daysRange' }) },
        ],
        back: { target: 'care', actions: assign({ care: null, error: null }) },
      },
    },
    amount: {
      meta: {
        screen: 'facility.amount',
        input: 'text',
        hint: 'facility.amountDigits',
        params: (c) => ({ care: c.care?.care ?? '', max: maxAmount(c) }),
      },
      on: {
        text: [
          {
            guard: 'amountAccepted',
            target: 'confirm',
            actions: assign({ amount: ({ event }) => parseAmount(typed(event)) ?? 0, error: null }),
          },
          { guard: 'amountAbove', actions: assign({ error: 'facility.amountOver' }) },
          { actions: assign({ error: 'facility.amountDigits' }) },
        ],
        back: [
          { guard: 'perDay', target: 'days', actions: assign({ error: null }) },
          { target: 'care', actions: assign({ care: null, error: null }) },
        ],
      },
    },
    confirm: {
      initial: 'deciding',
      on: {
        'choice.record': {
          target: 'recording',
          actions: assign({ visitKey: ({ context, event }) => `ussd:${context.sessionId}:${hopOf(event)}` }),
        },
        'choice.cancel': { target: 'cancelled', actions: assign(AFTER_PATIENT) },
        back: 'amount',
      },
      states: {
        deciding: { always: [{ guard: 'perDay', target: 'stay' }, { target: 'visit' }] },
        // A shortcut dial stops here: a visit is recorded only from this screen, confirmed.
        visit: { meta: { screen: 'facility.confirm', params: confirmParams, choices: confirmChoices, quote: true } },
        stay: { meta: { screen: 'facility.confirmDays', params: confirmParams, choices: confirmChoices, quote: true } },
      },
    },
    recording: loading({
      src: 'recordVisit',
      input: ({ context }) => ({
        requestKey: context.visitKey ?? '',
        agentId: context.agentId ?? 0,
        householdId: context.member?.householdId ?? 0,
        beneficiaryId: context.patient?.beneficiaryId ?? 0,
        care: context.care?.care ?? 'consultation',
        days: context.days,
        amount: context.amount,
      }),
      onDone: { target: 'outcome', actions: assign({ outcome: ({ event }) => event.output }) },
      // Recording is keyed by the confirmation: trying again cannot record the visit twice.
      slow: 'recordingSlow',
    }),
    recordingSlow: slowState('recording'),
    outcome: {
      always: [
        { guard: { type: 'outcome', params: 'recorded' }, target: 'recorded' },
        { guard: { type: 'outcome', params: 'cover' }, target: 'refusedCover' },
        { guard: { type: 'outcome', params: 'tariff' }, target: 'refusedTariff' },
        { target: 'refusedAgent' },
      ],
    },
    recorded: {
      meta: {
        screen: 'facility.recorded',
        params: (c) => ({ reference: c.outcome?.status === 'recorded' ? c.outcome.claimId : 0 }),
        choices: nextChoice,
      },
      on: { 'choice.next': { target: 'find', actions: assign(NEXT_MEMBER) } },
    },
    refusedCover: {
      meta: { screen: 'facility.refusedCover', params: (c) => ({ name: patientName(c.patient) }), choices: nextChoice },
      on: { 'choice.next': { target: 'find', actions: assign(NEXT_MEMBER) } },
    },
    refusedTariff: {
      meta: { screen: 'facility.refusedTariff', choices: nextChoice },
      on: { 'choice.next': { target: 'find', actions: assign(NEXT_MEMBER) } },
    },
    refusedAgent: { type: 'final', meta: { screen: 'facility.refusedAgent', end: true } },
    cancelled: {
      meta: { screen: 'facility.cancelled', choices: nextChoice },
      on: { 'choice.next': { target: 'find', actions: assign(NEXT_MEMBER) } },
    },
  },
});
