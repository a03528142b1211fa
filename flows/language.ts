import { assign, setup } from 'xstate';
import { isLanguage, type Language } from '../src/i18n/catalog.ts';
import {
  type Choice,
  choice,
  choiceValue,
  type FlowInput,
  failedState,
  flowTypes,
  handOff,
  loadingFor,
  provided,
  slowState,
} from './lib.ts';

/** How a household's reminders reach it: an SMS, or a call for members who cannot read. */
export type ReminderChannel = 'sms' | 'voice';

interface Context extends FlowInput {
  channel: ReminderChannel;
}

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    saveLanguage: provided<void, { phone: string; householdId: number | null; lang: Language }>('saveLanguage'),
    saveReminderChannel: provided<void, { householdId: number; channel: ReminderChannel }>('saveReminderChannel'),
  },
  guards: {
    languageOffered: ({ event }) => isLanguage(choiceValue(event)),
    member: ({ context }) => context.householdId !== null,
    byCall: ({ context }) => context.channel === 'voice',
  },
});
const loading = loadingFor(flow);

const LANGUAGES = [choice('fr', 'language.fr'), choice('bm', 'language.bm')];
/** A household (not a caller still to register) also chooses here how its reminders come: the words or the voice. */
const languageChoices = (c: Context): Choice[] => (c.householdId === null ? LANGUAGES : [...LANGUAGES, choice('channel', 'voice.channel')]);

/** French or Bamanankan, remembered for the phone: every later screen and SMS uses it. Members also choose reminders by SMS or by call. */
export const languageMachine = flow.createMachine({
  id: 'language',
  context: ({ input }) => ({ ...input, channel: 'sms' }),
  initial: 'choosing',
  output: handOff,
  states: {
    choosing: {
      meta: { screen: 'language.choose', choices: languageChoices },
      on: {
        'choice.channel': { guard: 'member', target: 'channel' },
        'choice.*': {
          guard: 'languageOffered',
          target: 'saving',
          actions: assign({ lang: ({ event }) => choiceValue(event) as Language }),
        },
      },
    },
    saving: loading({
      src: 'saveLanguage',
      input: ({ context }) => ({ phone: context.phone, householdId: context.householdId, lang: context.lang }),
      onDone: 'toHome',
      slow: 'slow',
    }),
    slow: slowState('saving'),
    channel: {
      meta: { screen: 'voice.channel.choose', choices: [choice('voice', 'voice.channel.call'), choice('sms', 'voice.channel.sms')] },
      on: {
        'choice.voice': { target: 'savingChannel', actions: assign({ channel: 'voice' }) },
        'choice.sms': { target: 'savingChannel', actions: assign({ channel: 'sms' }) },
        back: 'choosing',
      },
    },
    savingChannel: loading({
      src: 'saveReminderChannel',
      input: ({ context }) => ({ householdId: context.householdId ?? 0, channel: context.channel }),
      onDone: [{ guard: 'byCall', target: 'nowByCall' }, { target: 'nowBySms' }],
      slow: 'channelSlow',
    }),
    channelSlow: slowState('savingChannel'),
    failed: failedState,
    nowByCall: { type: 'final', meta: { screen: 'voice.channel.nowCall', end: true } },
    nowBySms: { type: 'final', meta: { screen: 'voice.channel.nowSms', end: true } },
    toHome: { type: 'final', output: { next: 'home' } },
  },
});
