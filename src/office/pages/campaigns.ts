import type { Express, Response } from 'express';
import { COVERAGE_STATUSES } from '../../campaigns/audience.ts';
import { CampaignError } from '../../campaigns/campaigns.ts';
import { PLACEHOLDERS } from '../../campaigns/render.ts';
import { actorOf } from '../auth.ts';
import { parseDayTime } from '../dates.ts';
import { type Flash, type FlashCode, flashOf, withFlash } from '../flash.ts';
import type { PageContext } from './shared.ts';

type Body = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter(Boolean);
const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
const yesNo = (v: string): boolean | undefined => (v === 'yes' ? true : v === 'no' ? false : undefined);
const int = (v: string): number | undefined => (v === '' ? undefined : Number(v));

/** The campaign form as the campaign service takes it (its schema checks every value). */
export function campaignInput(b: Body): Record<string, unknown> {
  const days = { min: int(one(b.daysMin)), max: int(one(b.daysMax)) };
  const messages: Record<string, string> = {};
  if (one(b.messageFr)) messages.fr = one(b.messageFr);
  if (one(b.messageBm)) messages.bm = one(b.messageBm);
  const share = one(b.controlPercent);
  return {
    name: one(b.name),
    audience: {
      ...(list(b.districts).length ? { districts: list(b.districts) } : {}),
      ...(list(b.mutuelles).length ? { mutuelles: list(b.mutuelles) } : {}),
      ...(list(b.statuses).length ? { statuses: list(b.statuses) } : {}),
      ...(list(b.languages).length ? { languages: list(b.languages) } : {}),
      ...(yesNo(one(b.subsidised)) !== undefined ? { subsidised: yesNo(one(b.subsidised)) } : {}),
      ...(yesNo(one(b.wallet)) !== undefined ? { wallet: yesNo(one(b.wallet)) } : {}),
      ...(one(b.remindersBy) ? { remindersBy: one(b.remindersBy) } : {}),
      ...(days.min !== undefined || days.max !== undefined ? { daysSinceLastPayment: JSON.parse(JSON.stringify(days)) } : {}),
    },
    messages,
    ...(one(b.fallback) ? { fallbackLanguage: one(b.fallback) } : {}),
    ...(one(b.sendAt) ? { sendAt: parseDayTime(one(b.sendAt) as string) } : {}),
    ...(one(b.ratePerMinute) ? { ratePerMinute: Number(one(b.ratePerMinute)) } : {}),
    ...(share ? { controlShare: Number(share) / 100 } : {}),
  };
}

/**
 * `/admin/campaigns`: campaigns in the console, for managers, on top of the campaign service the admin API uses:
 * create with audience filters, preview, a test to one phone, send, pause, resume, cancel with the
 * progress updating itself, and the results with conversions.
 */
export function campaignPages(app: Express, c: PageContext): void {
  const { campaigns } = c;
  const formPage = (res: Response, values: Body, error: string | null, status = 200) =>
    c.page(
      res,
      'campaign-form',
      {
        title: 'Nouvelle campagne',
        values,
        error,
        districts: c.districts(),
        coverageStatuses: COVERAGE_STATUSES,
        placeholders: PLACEHOLDERS,
      },
      status,
    );
  const detail = (res: Response, id: number, flash?: Flash, status = 200) => {
    const campaign = campaigns.get(id);
    const sending = campaign.state !== 'draft' && campaign.state !== 'scheduled';
    c.page(
      res,
      'campaign',
      {
        title: campaign.name,
        campaign,
        flash,
        preview: sending ? null : campaigns.preview(id),
        results: campaign.state === 'draft' ? null : campaigns.results(id),
      },
      status,
    );
  };
  const continueInBackground = (id: number) => {
    void campaigns.enqueueInBackground(id).catch((err: unknown) => c.logger.error({ err, campaign: id }, 'campaigns: enqueue failed'));
  };
  /** A campaign action from a page: audited, then the campaign's page with what happened (a refusal in place, with its status). */
  const action = (name: 'test' | 'send' | 'pause' | 'resume' | 'cancel', run: (id: number, body: Body) => void) => {
    app.post(`/admin/campaigns/:id/${name}`, c.manager, c.form, c.csrf, (req, res) => {
      const id = Number(req.params.id);
      try {
        const before = campaigns.get(id).state;
        run(id, req.body as Body);
        c.audit.record(actorOf(res), c.clock.now(), {
          action: `campaign.${name}`,
          entity: 'campaign',
          entityId: id,
          before: { state: before },
          after: { state: campaigns.get(id).state },
        });
        res.redirect(303, withFlash(`/admin/campaigns/${id}`, `campaign-${name}` satisfies FlashCode));
      } catch (err) {
        if (!(err instanceof CampaignError)) throw err;
        if (err.status === 404) return c.notFound(res, 'Campagne introuvable');
        detail(res, id, { kind: 'error', text: err.message }, err.status);
      }
    });
  };

  app.get('/admin/campaigns', c.manager, (_req, res) => {
    c.page(res, 'campaigns', { title: 'Campagnes', campaigns: campaigns.list(), reminders: campaigns.reminderResults() });
  });

  app.get('/admin/campaigns/new', c.manager, (_req, res) => formPage(res, { languages: ['fr', 'bm'] }, null));

  app.post('/admin/campaigns', c.manager, c.form, c.csrf, (req, res) => {
    const body = req.body as Body;
    try {
      const created = campaigns.create(campaignInput(body));
      c.audit.record(actorOf(res), c.clock.now(), { action: 'campaign.create', entity: 'campaign', entityId: created.id, after: created });
      res.redirect(303, `/admin/campaigns/${created.id}`);
    } catch (err) {
      if (!(err instanceof CampaignError)) throw err;
      formPage(res, body, err.message, err.status === 404 ? 400 : err.status);
    }
  });

  app.get('/admin/campaigns/:id', c.manager, (req, res) => {
    const id = Number(req.params.id);
    try {
      detail(res, id, flashOf(req));
    } catch (err) {
      if (err instanceof CampaignError && err.status === 404) return c.notFound(res, 'Campagne introuvable');
      throw err;
    }
  });

  /** What the page polls while a campaign sends. */
  app.get('/admin/campaigns/:id/progress', c.manager, (req, res) => {
    try {
      const r = campaigns.results(Number(req.params.id));
      res.json({ state: r.campaign.state, progress: r.campaign.progress, counts: r.counts });
    } catch (err) {
      if (err instanceof CampaignError) return void res.status(err.status).json({ error: err.message });
      throw err;
    }
  });

  action('test', (id, body) => void campaigns.testSend(id, one(body.phone)));
  action('send', (id) => {
    campaigns.startSend(id);
    continueInBackground(id);
  });
  action('pause', (id) => void campaigns.pause(id));
  action('resume', (id) => {
    if (!campaigns.resume(id).progress.enqueueDone) continueInBackground(id);
  });
  action('cancel', (id) => void campaigns.cancel(id));
}
