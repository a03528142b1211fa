import { dirname, join } from 'node:path';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import type { FacilityStore } from '../db/facilities.ts';
import type { SessionStore } from '../db/sessions.ts';
import { createVoiceStore } from '../db/voice.ts';
import type { Catalogs } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import type { UssdEngine } from '../ussd/engine.ts';
import { createVoiceCalls, type InboundDecision, type OutboundCalls } from './calls.ts';
import { createPromptLibrary } from './library.ts';
import { createStudio } from './studio.ts';
import { createEspeak, findExecutable } from './synth.ts';

/** Until a call-back policy is plugged in (VOICE_CALL_BACK_MISSED), every inbound call is answered. */
export const answerEveryCall = (_phone: string): InboundDecision => 'answer';

export interface VoiceParts {
  config: Config;
  db: Db;
  engine: UssdEngine;
  sessions: SessionStore;
  facilities: FacilityStore;
  catalogs: Catalogs;
  clock: Clock;
  logger: Logger;
  onInboundCall?: (phone: string) => InboundDecision;
  /** The calls UTM places: the route reports their answer, first key and end to them. */
  outbound: OutboundCalls;
}

/** The voice channel wired: its tables, the prompt library (recordings, eSpeak NG, the disk cache) and the call handler. */
export function createVoice(p: VoiceParts) {
  const { config, logger } = p;
  const store = createVoiceStore(p.db);
  const espeak = findExecutable(config.VOICE_SYNTHESIZER);
  if (!espeak)
    logger.warn({ synthesizer: config.VOICE_SYNTHESIZER }, 'voice: no speech synthesiser; unrecorded prompts use the gateway <Say>');
  const library = createPromptLibrary({
    dir: config.VOICE_DIR ?? join(dirname(config.DATABASE_PATH), 'voice'),
    catalogs: p.catalogs,
    synth: espeak ? createEspeak({ command: espeak, timeoutMs: 5000, concurrency: 2 }) : null,
    cacheBytes: config.VOICE_CACHE_MB * 1_000_000,
    logger,
  });
  const calls = createVoiceCalls({
    engine: p.engine,
    endSession: (id) => p.sessions.markEnded(id),
    store,
    library,
    catalogs: p.catalogs,
    clock: p.clock,
    logger,
    agentLanguage: (phone) => p.facilities.agentByPhone(phone)?.language ?? null,
    serviceCode: config.USSD_SERVICE_CODE,
    onInboundCall: p.onInboundCall ?? answerEveryCall,
    outbound: p.outbound,
    prerender: config.VOICE_PRERENDER,
    timeouts: { key: 10, number: 20 },
  });
  return {
    calls,
    library,
    /** The recording studio (console and `sabatili voice prompts`). */
    studio: createStudio({ library, store, catalogs: p.catalogs, clock: p.clock }),
    store,
    catalogs: p.catalogs,
    serviceCode: config.USSD_SERVICE_CODE,
    /** Surveys the prompt library and stores where each slot stands (voice_prompts). */
    survey(): { recorded: number; synthetic: number; missing: number } {
      const rows = library.survey();
      store.recordSurvey(rows, p.clock.now());
      const count = (s: string) => rows.filter((r) => r.status === s).length;
      return { recorded: count('recorded'), synthetic: count('synthetic'), missing: count('missing') };
    },
  };
}

export type Voice = ReturnType<typeof createVoice>;
