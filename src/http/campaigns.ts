import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Campaigns } from '../campaigns/campaigns.ts';
import { PLACEHOLDERS } from '../campaigns/render.ts';
import { Refusal } from '../domain/refusal.ts';
import { LANGUAGES } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import { type ApiAudit, requireAdminToken } from './admin.ts';
import { jsonError, jsonRefusals, parse } from './errors.ts';
import { e164 } from './form.ts';

export interface CampaignRouteDeps {
  campaigns: Campaigns;
  /** ADMIN_TOKEN (see requireAdminToken). */
  token: string | undefined;
  logger: Logger;
  audit?: ApiAudit;
}

/** A campaign with its phone list as CSV text fits well under this. */
export const CAMPAIGN_BODY_LIMIT = '2mb';

const testBody = z.object({ phone: e164, language: z.enum(LANGUAGES).optional() }).strict();

/**
 * The office's campaign API, JSON in and out, bearer ADMIN_TOKEN; a refused request is a 4xx
 * `{ error, ... }` naming the field:
 * - `POST /admin/api/campaigns` body as src/campaigns/campaigns.ts `campaignInputSchema` → 201 the campaign
 * - `GET /admin/api/campaigns`, `GET /admin/api/campaigns/:id` (with its state and enqueue progress)
 * - `GET /admin/api/campaigns/:id/preview` → counts per language, segments, characters, cost, samples, warnings
 * - `POST /admin/api/campaigns/:id/test` `{ phone, language? }` → one message now to that phone
 * - `POST /admin/api/campaigns/:id/send` → 202; the outbox rows are written in the background, chunk by chunk
 * - `POST /admin/api/campaigns/:id/pause|resume|cancel`
 * - `GET /admin/api/campaigns/:id/results` → queued, sent, delivered, failed, opted out after, conversions
 * - `GET /admin/api/campaigns/placeholders` → the placeholders a message may use
 * - `GET /admin/api/campaigns/reminders` → the same results per reminder rule
 */
export function campaignRoutes(app: Express, deps: CampaignRouteDeps): void {
  const { campaigns, logger } = deps;
  const router = express.Router();
  router.use(requireAdminToken(deps.token, deps.audit));
  const json = express.json({ limit: CAMPAIGN_BODY_LIMIT });
  const readJson: RequestHandler = (req, res, next) => {
    if (req.method === 'POST' && req.headers['content-length'] !== '0' && req.headers['content-type'] && !req.is('application/json')) {
      return next(new Refusal('send JSON with Content-Type: application/json', undefined, 415));
    }
    json(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { status?: number; type?: string; message?: string };
      if (e.type === 'entity.too.large')
        return next(new Refusal(`the body is larger than ${CAMPAIGN_BODY_LIMIT.toUpperCase()}`, undefined, 413));
      next(new Refusal(`the body is not valid JSON: ${e.message ?? String(err)}`, undefined, e.status === 415 ? 415 : 400));
    });
  };
  router.use(readJson);

  /** Runs a campaign operation with the route's id; its CampaignError (a Refusal) goes to jsonRefusals. */
  const handle =
    (fn: (req: Request, res: Response, id: number) => void): RequestHandler =>
    (req, res) => {
      const raw = req.params.id;
      const id = raw === undefined ? 0 : Number(raw);
      if (raw !== undefined && !(Number.isSafeInteger(id) && id > 0))
        throw new Refusal(`campaign id must be a positive whole number, got ${JSON.stringify(raw)}`, 'id');
      fn(req, res, id);
    };

  /** The rest of a send runs after the answer; a failure there is logged, the campaign keeps its cursor for a resume. */
  const continueInBackground = (id: number) => {
    void campaigns.enqueueInBackground(id).catch((err: unknown) => logger.error({ err, campaign: id }, 'campaigns: enqueue failed'));
  };

  router.get('/placeholders', (_req, res) => {
    res.json({ placeholders: PLACEHOLDERS });
  });
  router.get('/reminders', (_req, res) => {
    res.json({ rules: campaigns.reminderResults() });
  });
  router.post(
    '/',
    handle((req, res) => {
      res.status(201).json(campaigns.create(req.body ?? {}));
    }),
  );
  router.get(
    '/',
    handle((_req, res) => {
      res.json({ campaigns: campaigns.list() });
    }),
  );
  router.get(
    '/:id',
    handle((_req, res, id) => {
      res.json(campaigns.get(id));
    }),
  );
  router.get(
    '/:id/preview',
    handle((_req, res, id) => {
      res.json(campaigns.preview(id));
    }),
  );
  router.post(
    '/:id/test',
    handle((req, res, id) => {
      const body = parse(testBody, req.body ?? {});
      res.json(campaigns.testSend(id, body.phone, body.language));
    }),
  );
  router.post(
    '/:id/send',
    handle((_req, res, id) => {
      const { campaign, total } = campaigns.startSend(id);
      continueInBackground(id);
      res.status(202).json({ ...campaign, households: total });
    }),
  );
  router.post(
    '/:id/pause',
    handle((_req, res, id) => {
      res.json(campaigns.pause(id));
    }),
  );
  router.post(
    '/:id/resume',
    handle((_req, res, id) => {
      const c = campaigns.resume(id);
      if (!c.progress.enqueueDone) continueInBackground(id);
      res.json(c);
    }),
  );
  router.post(
    '/:id/cancel',
    handle((_req, res, id) => {
      res.json(campaigns.cancel(id));
    }),
  );
  router.get(
    '/:id/results',
    handle((_req, res, id) => {
      res.json(campaigns.results(id));
    }),
  );
  router.use((req, res) => jsonError(res, 404, `no such campaign route: ${req.method} ${req.baseUrl}${req.path}`));
  router.use(jsonRefusals);

  app.use('/admin/api/campaigns', router);
}
