import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

const TOKEN = 'campaign-test-admin-token';
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ env: { ADMIN_TOKEN: TOKEN, SIMULATOR_DELIVERY_DELAY_MS: '20' } });
  app.services.dispatcher.start();
});
afterAll(() => app.close());

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/admin/api/campaigns${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, any> };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const inbox = async (phone: string) =>
  (await (await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`)).json()) as Array<{
    text: string;
    status: string;
  }>;

const LAPSED = {
  name: 'Relance des ménages non couverts',
  audience: { statuses: ['lapsed'] },
  messages: {
    fr: 'Kénéya Sabatili: {prenom}, la couverture de votre ménage ({mutuelle}) a pris fin le {couvert_jusqu_au}. Payez {montant_du} pour la reprendre: {code_ussd}',
    bm: 'Kénéya Sabatili: {prenom}, i ka lafiya sara {montant_du} ye. {code_ussd}',
  },
};

describe('campaigns over the admin API, with the demo data', () => {
  it('a campaign to lapsed members previews, sends through the dispatcher to the simulator, and reports delivery and conversions', async () => {
    const created = await api('POST', '', LAPSED);
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect(created.body.state).toBe('draft');

    const preview = await api('GET', `/${id}/preview`);
    expect(preview.status).toBe(200);
    const expectedText =
      'Kénéya Sabatili: Aminata, la couverture de votre ménage (Mutuelle Sabatili de Niéna) a pris fin le 31/07/2025. Payez 500 FCFA pour la reprendre: *384*123#';
    expect(preview.body).toMatchObject({
      audience: 1,
      messages: 1,
      optedOut: 0,
      control: 0,
      segments: 1,
      estimatedCostFcfa: 20,
      byLanguage: { fr: { messages: 1, segments: 1, characters: expectedText.length }, bm: { messages: 0 } },
      samples: [{ phone: '+22376000002', language: 'fr', text: expectedText }],
      warnings: [],
    });

    // A test send to a staff phone that is not a member: the first member's values, now, not counted.
    const test = await api('POST', `/${id}/test`, { phone: '+22370000099' });
    expect(test.status).toBe(200);
    expect(test.body.text).toBe(expectedText);
    await until('the test message', async () => ((await inbox('+22370000099')).length === 1 ? true : undefined));

    const sent = await api('POST', `/${id}/send`);
    expect(sent.status).toBe(202);
    const again = await api('POST', `/${id}/send`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/was already sent .*a campaign is sent once/);

    const received = await until('the campaign SMS, delivered', async () => {
      const messages = await inbox('+22376000002');
      return messages.find((m) => m.text === expectedText && m.status === 'Success');
    });
    expect(received.text).toBe(expectedText);
    const delivered = await until('the delivery report', async () => {
      const r = await api('GET', `/${id}/results`);
      return r.body.counts.delivered === 1 ? r.body : undefined;
    });
    expect(delivered.counts).toMatchObject({ audience: 1, queued: 1, sent: 1, delivered: 1, failed: 0, waiting: 0 });
    expect(delivered.campaign.state).toBe('done');
    expect(delivered.conversions.reached).toEqual({ size: 1, paid: 0, rate: 0 });

    // Three days later Aminata pays at the mutuelle: a conversion.
    app.clock.advance(3 * 86_400_000);
    app.services.households.addContribution(
      {
        householdId: app.services.households.findByPhone('+22376000002')?.id ?? 0,
        amount: 500,
        fee: 0,
        channel: 'cash',
        operatorTxnId: null,
        paidOn: '2026-03-13',
        paidAt: app.clock.now().toISOString(),
      },
      app.clock.now(),
    );
    const results = await api('GET', `/${id}/results`);
    expect(results.body.conversions).toMatchObject({
      windowDays: 14,
      reached: { size: 1, paid: 1, rate: 1 },
      comparisonKind: 'not-reached',
    });
    const list = await api('GET', '');
    expect(list.body.campaigns.map((c: { id: number; state: string }) => [c.id, c.state])).toContainEqual([id, 'done']);
    expect(Object.keys((await api('GET', '/placeholders')).body.placeholders)).toEqual([
      'prenom',
      'mutuelle',
      'montant_du',
      'couvert_jusqu_au',
      'code_ussd',
    ]);
    expect(await api('GET', '/reminders')).toEqual({ status: 200, body: { rules: [] } }); // no reminder decided in this app
  });

  it('pauses, resumes and cancels a scheduled campaign; its messages wait for its time', async () => {
    const created = await api('POST', '', {
      ...LAPSED,
      name: 'Plus tard',
      audience: {},
      sendAt: new Date(app.clock.now().getTime() + 3600_000).toISOString(),
      ratePerMinute: 60,
    });
    const id = created.body.id as number;
    expect((await api('POST', `/${id}/send`)).status).toBe(202);
    const scheduled = await until('the enqueue', async () => {
      const c = await api('GET', `/${id}`);
      return c.body.progress.enqueueDone ? c.body : undefined;
    });
    expect(scheduled).toMatchObject({ state: 'scheduled', progress: { queued: 4 } });
    expect((await api('POST', `/${id}/pause`)).body.state).toBe('paused');
    expect((await api('POST', `/${id}/pause`)).status).toBe(409);
    expect((await api('POST', `/${id}/resume`)).body.state).toBe('scheduled');
    const cancelled = await api('POST', `/${id}/cancel`);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', expired: 4 });
    expect((await api('POST', `/${id}/resume`)).status).toBe(409);
    expect((await api('GET', `/${id}/results`)).body.counts).toMatchObject({ queued: 4, sent: 0, expired: 4 });
  });

  it('answers bad requests with a 4xx that says what is wrong, never a 5xx', async () => {
    const cases: Array<[string, () => ReturnType<typeof api>, number, RegExp]> = [
      ['no token', () => api('GET', '', undefined, { authorization: '' }), 401, /missing bearer token/],
      [
        'unknown placeholder',
        () => api('POST', '', { ...LAPSED, messages: { fr: 'Bonjour {nom}', bm: 'x' } }),
        400,
        /unknown placeholder \{nom\}; the valid ones are \{prenom\}, \{mutuelle\}, \{montant_du\}, \{couvert_jusqu_au\}, \{code_ussd\}/,
      ],
      [
        'a language without a message',
        () => api('POST', '', { ...LAPSED, messages: { fr: 'Bonjour' } }),
        400,
        /messages\.bm: no message for members speaking bm/,
      ],
      ['a send time in the past', () => api('POST', '', { ...LAPSED, sendAt: '2026-03-01T08:00:00Z' }), 400, /sendAt: .* is in the past/],
      ['a bad send time', () => api('POST', '', { ...LAPSED, sendAt: 'tomorrow' }), 400, /sendAt: must be a time such as/],
      [
        'an unknown filter',
        () => api('POST', '', { ...LAPSED, audience: { region: 'Kayes' } }),
        400,
        /audience: Unrecognized key: "region"/,
      ],
      ['a bad status', () => api('POST', '', { ...LAPSED, audience: { statuses: ['late'] } }), 400, /audience\.statuses\.0/],
      ['a control share too large', () => api('POST', '', { ...LAPSED, controlShare: 0.9 }), 400, /controlShare: at most 0\.5/],
      ['not JSON', () => api('POST', '', '{"name":'), 400, /the body is not valid JSON/],
      [
        'not a JSON content type',
        () => api('POST', '', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        /Content-Type: application\/json/,
      ],
      ['a bad campaign id', () => api('GET', '/abc'), 400, /campaign id must be a positive whole number/],
      ['an unknown campaign', () => api('GET', '/999/preview'), 404, /no campaign 999/],
      ['a test send to a bad phone', () => api('POST', '/1/test', { phone: '0176' }), 400, /phone: must be an E\.164 number/],
      ['an unknown route', () => api('POST', '/1/launch'), 404, /no such campaign route/],
    ];
    for (const [label, call, status, message] of cases) {
      const r = await call();
      expect([label, r.status, r.body.error]).toEqual([label, status, expect.stringMatching(message)]);
    }
    const csv = await api('POST', '', { ...LAPSED, phonesCsv: 'phone\n+22376000001\nnot a phone\n+22376000002\n+2237600\n' });
    expect(csv.status).toBe(400);
    expect(csv.body).toMatchObject({ error: 'phonesCsv: 2 bad lines; nothing was created', errors: [{ line: 3 }, { line: 5 }] });
    const empty = await api('POST', '', { ...LAPSED, audience: { districts: ['Kayes'] } });
    expect((await api('GET', `/${empty.body.id}/preview`)).body.warnings).toEqual([
      'the audience is empty: no member matches these filters, nothing would be sent',
    ]);
    expect(await api('POST', `/${empty.body.id}/send`)).toMatchObject({
      status: 409,
      body: { error: 'the audience is empty: no member matches these filters; nothing was sent' },
    });
  });
});
