/**
 * Health facilities and their agents: `/admin/facilities` (per district, with the agents' CSV
 * import), `/admin/facilities/new` and `POST /admin/facilities` (registration, managers only: the
 * facility's payment number is where UTM's money goes), `/admin/facilities/:id` (its agents, added
 * and deactivated there). Every change is audited with what it wrote.
 */
import { rmSync } from 'node:fs';
import type { Express, Request, Response } from 'express';
import { createFacilityStore } from '../../db/facilities.ts';
import { atomically } from '../../db/transaction.ts';
import { Refusal } from '../../domain/refusal.ts';
import { actorOf } from '../auth.ts';
import { AGENT_COLUMNS, checkAgent, checkFacility, FACILITY_KINDS, importAgents, isTaken } from '../facilities.ts';
import { ImportFileError } from '../import.ts';
import type { FieldErrors, FormValues } from '../registration.ts';
import { formValues } from './households.ts';
import { idParam, type PageContext } from './shared.ts';

/** What a redirect after a change says: fixed texts only, never text from the URL. */
const DONE: Record<string, string> = {
  registered: 'Établissement inscrit.',
  'agent-added': 'Agent enregistré: son téléphone reçoit le menu des établissements.',
  'agent-deactivated': 'Agent désactivé: son téléphone reçoit de nouveau le menu des membres.',
};
const doneOf = (req: Request) => {
  const code = req.query.done;
  return typeof code === 'string' && Object.hasOwn(DONE, code) ? { kind: 'ok', text: DONE[code] } : undefined;
};

export function facilityPages(app: Express, c: PageContext): void {
  const facilities = createFacilityStore(c.db);

  const listPage = (res: Response, data: Record<string, unknown>, status = 200) => {
    const names = new Map(c.districts().flatMap((d) => d.mutuelles.map((m) => [m.id, m.name] as const)));
    const all = facilities.facilities().map((f) => ({
      ...f,
      mutuelles: f.mutuelleIds.map((id) => names.get(id) ?? id),
      agents: facilities.agentsOf(f.id).length,
    }));
    const districts = [...new Set(all.map((f) => f.district))].map((district) => ({
      district,
      facilities: all.filter((f) => f.district === district),
    }));
    c.page(
      res,
      'facilities',
      { title: 'Établissements de santé', districts, kinds: FACILITY_KINDS, columns: AGENT_COLUMNS.join(','), imported: null, ...data },
      status,
    );
  };
  app.get('/admin/facilities', c.officer, (req, res) => listPage(res, { flash: doneOf(req) }));

  const facilityForm = (res: Response, values: FormValues, mutuelleIds: readonly string[], errors: FieldErrors, status = 200) =>
    c.page(
      res,
      'facility-form',
      { title: 'Inscrire un établissement', values, mutuelleIds, errors, kinds: FACILITY_KINDS, districts: c.districts() },
      status,
    );
  app.get('/admin/facilities/new', c.manager, (_req, res) => facilityForm(res, { kind: 'cscom' }, [], {}));

  app.post('/admin/facilities', c.manager, c.form, c.csrf, (req, res) => {
    const v = formValues(req);
    const ticked = (req.body as Record<string, unknown>).mutuelleIds;
    const mutuelleIds = (Array.isArray(ticked) ? ticked : [ticked]).filter((m): m is string => typeof m === 'string');
    const checked = checkFacility(v, mutuelleIds, { facilities, known: c.districts() });
    if (!checked.ok) return facilityForm(res, v, mutuelleIds, checked.errors, 400);
    const at = c.clock.now();
    let id: number;
    try {
      id = atomically(c.db, () => {
        const created = facilities.createFacility(checked.value, at);
        c.audit.record(actorOf(res), at, { action: 'facility.register', entity: 'facility', entityId: created, after: checked.value });
        return created;
      });
    } catch (err) {
      if (!isTaken(err)) throw err;
      return facilityForm(res, v, mutuelleIds, { code: "ce code vient d'être donné à un autre établissement" }, 409);
    }
    res.redirect(303, `/admin/facilities/${id}?done=registered`);
  });

  app.post(
    '/admin/facilities/import-agents',
    c.officer,
    (req, res, next) => {
      c.uploads.receive(req, res, (err: unknown) => {
        if (!err) return next();
        listPage(res, { error: `Fichier refusé: ${(err as Error).message}` }, 400);
      });
    },
    c.uploads.csrf,
    async (req, res) => {
      if (!req.file) return listPage(res, { error: 'Choisissez un fichier CSV.' }, 400);
      try {
        const imported = await importAgents(req.file.path, { db: c.db, facilities, audit: c.audit }, actorOf(res), c.clock.now());
        listPage(res, { imported, fileName: req.file.originalname }, imported.problems.length ? 400 : 200);
      } catch (err) {
        if (!(err instanceof ImportFileError)) throw err;
        listPage(res, { error: `Fichier refusé: ${err.message}` }, 400);
      } finally {
        rmSync(req.file.path, { force: true });
      }
    },
  );

  const facilityPage = (res: Response, id: number, data: Record<string, unknown>, status = 200) => {
    const facility = facilities.facility(id);
    if (!facility) return c.notFound(res, 'Établissement introuvable');
    const names = new Map(c.districts().flatMap((d) => d.mutuelles.map((m) => [m.id, m.name] as const)));
    c.page(
      res,
      'facility',
      {
        title: facility.name,
        facility,
        mutuelles: facility.mutuelleIds.map((m) => names.get(m) ?? m),
        agents: facilities.agentsOf(id),
        kinds: FACILITY_KINDS,
        values: {},
        errors: {},
        ...data,
      },
      status,
    );
  };
  app.get('/admin/facilities/:id', c.officer, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return c.notFound(res, 'Établissement introuvable');
    facilityPage(res, id.data, { flash: doneOf(req) });
  });

  app.post('/admin/facilities/:id/agents', c.officer, c.form, c.csrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const facility = id.success ? facilities.facility(id.data) : undefined;
    if (!facility) return c.notFound(res, 'Établissement introuvable');
    const v = formValues(req);
    const checked = checkAgent(v, facility.id, facilities);
    if (!checked.ok) return facilityPage(res, facility.id, { values: v, errors: checked.errors }, 400);
    const at = c.clock.now();
    try {
      atomically(c.db, () => {
        const agentId = facilities.addAgent(checked.value, at);
        c.audit.record(actorOf(res), at, { action: 'agent.add', entity: 'facility_agent', entityId: agentId, after: checked.value });
      });
    } catch (err) {
      if (!isTaken(err)) throw err;
      return facilityPage(res, facility.id, { values: v, errors: { phone: "ce numéro vient d'être donné à un autre agent" } }, 409);
    }
    res.redirect(303, `/admin/facilities/${facility.id}?done=agent-added`);
  });

  app.post('/admin/facilities/:id/agents/:agentId/deactivate', c.officer, c.form, c.csrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success || !facilities.facility(id.data)) return c.notFound(res, 'Établissement introuvable');
    const agentId = idParam.safeParse(req.params.agentId);
    const agent = agentId.success ? facilities.agent(agentId.data) : undefined;
    try {
      if (!agent || agent.facilityId !== id.data) throw new Refusal("Cet agent n'est pas de cet établissement.", undefined, 404);
      const at = c.clock.now();
      atomically(c.db, () => {
        if (!facilities.deactivateAgent(agent.id)) throw new Refusal('Cet agent est déjà désactivé.', undefined, 409);
        c.audit.record(actorOf(res), at, {
          action: 'agent.deactivate',
          entity: 'facility_agent',
          entityId: agent.id,
          before: { phone: agent.phone, name: agent.name, facilityId: agent.facilityId, active: true },
          after: { active: false },
        });
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      return facilityPage(res, id.data, { flash: { kind: 'error', text: err.message } }, err.status);
    }
    res.redirect(303, `/admin/facilities/${id.data}?done=agent-deactivated`);
  });
}
