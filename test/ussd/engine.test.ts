import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { flows } from '../../flows/index.ts';
import type { CoverageView } from '../../src/domain/coverage.ts';
import { createUssdEngine, inputSuffix } from '../../src/ussd/engine.ts';
import { machineVersion } from '../../src/ussd/providers.ts';
import { runsWithoutActor } from '../../src/ussd/run.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** A write by another connection to the same database file, as a CLI command or a second server would make. */
function elsewhere(app: TestApp, sql: string, ...params: unknown[]): void {
  const other = new Database(app.dbPath);
  other.prepare(sql).run(...params);
  other.close();
}

const MENU_FR = 'CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Alertes SMS\n5 Etre rappelé par UTM\n6 Langue / Kan';

describe('the input of a hop', () => {
  it('is what follows the stored text and its separator, even when it contains *', () => {
    expect(inputSuffix('', '1')).toBe('1');
    expect(inputSuffix('1', '1*2')).toBe('2');
    expect(inputSuffix('2*1', '2*1*1*000')).toBe('1*000');
    expect(inputSuffix('1*2', '1*2*')).toBe('');
  });
  it('is null when the text does not extend the previous one', () => {
    expect(inputSuffix('1*2', '1*3')).toBeNull();
    expect(inputSuffix('1*2', '1*2')).toBeNull();
    expect(inputSuffix('12', '123')).toBeNull();
  });
});

describe('the USSD engine', () => {
  let app: TestApp | undefined;
  let second: TestApp | undefined;
  afterEach(async () => {
    await second?.close();
    await app?.close();
    app = second = undefined;
  });

  it('runs every flow without an actor but the contribution, whose payment waits on the operator', async () => {
    app = await startTestApp();
    const withActor = Object.entries(app.services.flows)
      .filter(([, flow]) => !runsWithoutActor(flow.machine))
      .map(([name]) => name);
    expect(withActor).toEqual(['contribute']);
  });

  it('continues a session correctly after the server restarts on the same database', async () => {
    app = await startTestApp();
    expect((await app.hop('restart-1', '+22376000001', '')).body).toBe(MENU_FR);
    expect((await app.hop('restart-1', '+22376000001', '1')).body).toContain('Couvert jusqu');
    await app.close({ keepDatabase: true });
    const dbPath = app.dbPath;
    app = undefined;

    second = await startTestApp({ dbPath, clock: '2026-03-10T09:00:05Z' });
    const res = await second.hop('restart-1', '+22376000001', '1*1');
    expect(res.body).toContain('Bénéficiaires (5):');
    expect((await second.hop('restart-1', '+22376000001', '1*1*0')).body).toContain('Couvert jusqu');
  });

  it('restarts politely on the main menu when the stored snapshot was written by another version of the machine', async () => {
    app = await startTestApp();
    await app.hop('deploy-1', '+22376000001', '');
    await app.hop('deploy-1', '+22376000001', '1');
    // Written by another connection (another process), which the live-session cache must notice.
    elsewhere(app, 'UPDATE ussd_sessions SET version = version + 1 WHERE session_id = ?', 'deploy-1');
    const res = await app.hop('deploy-1', '+22376000001', '1*1');
    expect(res.body).toBe(MENU_FR.replace('CON ', 'CON Le service a été mis à jour.\n'));
  });

  it('restarts politely when the stored snapshot is corrupted', async () => {
    app = await startTestApp();
    await app.hop('corrupt-1', '+22376000001', '');
    await app.hop('corrupt-1', '+22376000001', '1');
    elsewhere(app, `UPDATE ussd_sessions SET snapshot = '{not json' WHERE session_id = ?`, 'corrupt-1');
    const res = await app.hop('corrupt-1', '+22376000001', '1*1');
    expect(res.status).toBe(200);
    expect(res.body).toContain('Le service a été mis à jour.');
  });

  it('answers "try again" in time when a service overruns its budget, and persists no running service', async () => {
    app = await startTestApp();
    const s = app.services;
    let delayMs = 400;
    const slowCoverage = fromPromise<CoverageView, { householdId: number }>(async ({ signal }) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (signal.aborted) throw new Error('aborted');
      return {
        adherentName: 'Moussa Traoré',
        size: 5,
        status: 'active',
        paidThrough: '2026-04-30',
        waitingUntil: null,
        graceUntil: '2026-05-15',
        nextMonth: '2026-05',
        remaining: 1250,
        beneficiaries: [],
      };
    });
    const engine = createUssdEngine({
      flows: {
        ...s.flows,
        coverage: {
          machine: flows.coverage.provide({ actors: { lookupCoverage: slowCoverage } }),
          version: machineVersion(flows.coverage),
        },
      },
      sessions: s.sessions,
      watch: s.watch,
      catalogs: s.catalogs,
      clock: s.clock,
      logger: s.logger,
      identify: () => ({ home: 'main', householdId: 1, lang: 'fr' }),
      serviceCode: '*384*123#',
      budgetMs: 50,
      resumeMs: 600_000,
      foldMode: 'gsm7',
    });
    const hop = (text: string) => engine.handle({ sessionId: 'slow-1', serviceCode: '*384*123#', phoneNumber: '+22376000001', text });

    await hop('');
    const started = Date.now();
    const slow = await hop('1');
    expect(Date.now() - started).toBeLessThan(350);
    expect(slow.body).toBe('CON Le service est lent en ce moment.\n1 Réessayer\n0 Retour');
    const row = s.sessions.get('slow-1');
    expect(JSON.parse(row?.snapshot ?? '{}').children).toEqual({});
    expect(JSON.parse(row?.snapshot ?? '{}').value).toBe('slow');

    delayMs = 0;
    const retried = await hop('1*1');
    expect(retried.body).toContain("Couvert jusqu'au 30/04/2026");
  });

  it('answers a gateway retry of the same hop from the stored reply, without running the hop again', async () => {
    app = await startTestApp();
    await app.hop('retry-1', '+22376000001', '');
    const first = await app.hop('retry-1', '+22376000001', '5');
    const done = await app.hop('retry-1', '+22376000001', '5*1');
    const again = await app.hop('retry-1', '+22376000001', '5*1');
    expect(again.body).toBe(done.body);
    expect(first.body).toContain('Pour quelle raison');
    expect(app.services.sessions.get('retry-1')?.hops).toBe(3);
    expect(app.services.db.prepare('SELECT COUNT(*) FROM callback_requests').pluck().get()).toBe(1);
  });

  it('keeps concurrent retries of one hop to one computation', async () => {
    app = await startTestApp();
    await app.hop('dup-1', '+22376000001', '');
    await app.hop('dup-1', '+22376000001', '5');
    const replies = await Promise.all([1, 2, 3, 4].map(() => app!.hop('dup-1', '+22376000001', '5*2')));
    expect(new Set(replies.map((r) => r.body)).size).toBe(1);
    expect(app.services.db.prepare('SELECT COUNT(*) FROM callback_requests').pluck().get()).toBe(1);
  });
});
