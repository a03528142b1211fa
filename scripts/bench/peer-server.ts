/**
 * The peer: ussd-menu-builder (a popular Node library for Africa's Talking USSD menus) behind
 * express with express.urlencoded, as its README wires it, with its sessions in memory (a Map
 * through menu.sessionConfig) and the same menus as the bench's paths in sabatili: the home menu,
 * 1 coverage summary → 1 beneficiaries, 3 payments → 98 next page, with the demo households'
 * records kept in memory (looked up by phone once per session, kept in the session).
 *
 * One UssdMenu per request: a shared menu keeps the current request's args and result callback on
 * the instance and its session calls are asynchronous, so concurrent hops would answer each other.
 */
import express from 'express';
import UssdMenu from 'ussd-menu-builder';
import { serveForBench } from './child.ts';

interface Household {
  head: string;
  size: number;
  until: string;
  remaining: string;
  month: string;
  beneficiaries: { name: string; status: string }[];
  payments: { date: string; amount: string; via: string }[];
}

const payments = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    date: `0${(i % 9) + 1}/0${(i % 9) + 1}/2025`,
    amount: `${3 + (i % 2)} 500 FCFA`,
    via: i % 3 ? 'Orange Money' : 'espèces',
  }));
const HOUSEHOLDS = new Map<string, Household>([
  [
    '+22376000001',
    {
      head: 'Moussa Traoré',
      size: 5,
      until: '30/04/2026',
      remaining: '1 250 FCFA',
      month: 'mai',
      payments: payments(7),
      beneficiaries: ['Moussa Traoré', 'Awa Coulibaly', 'Fatoumata Traoré', 'Seydou Traoré', 'Kadiatou Traoré'].map((name) => ({
        name,
        status: 'couvert',
      })),
    },
  ],
  [
    '+22376000002',
    {
      head: 'Aminata Diarra',
      size: 3,
      until: '31/01/2026',
      remaining: '1 750 FCFA',
      month: 'mars',
      payments: payments(4),
      beneficiaries: ['Aminata Diarra', 'Ibrahim Diarra', 'Mariam Diarra'].map((name) => ({ name, status: 'non couvert' })),
    },
  ],
  [
    '+22376000003',
    {
      head: 'Bakary Keita',
      size: 4,
      until: '31/03/2026',
      remaining: '1 000 FCFA',
      month: 'avril',
      payments: payments(6),
      beneficiaries: ['Bakary Keita', 'Oumou Sangaré', 'Drissa Keita', 'Sali Keita'].map((name) => ({ name, status: 'couvert' })),
    },
  ],
]);

const HOME = 'Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Rappels SMS\n5 Etre rappelé par UTM\n6 Langue / Kan';
const PAGE = 3;

/** Sessions in memory, as ussd-menu-builder's README keeps them. */
const sessions = new Map<string, Record<string, unknown>>();
const sessionConfig: UssdMenu.UssdSessionConfig = {
  start: (id, cb) => {
    if (!sessions.has(id)) sessions.set(id, {});
    cb?.();
  },
  end: (id, cb) => {
    sessions.delete(id);
    cb?.();
  },
  get: (id, key, cb) => cb?.(null, sessions.get(id)?.[key]),
  set: (id, key, value, cb) => {
    const s = sessions.get(id);
    if (s) s[key] = value;
    cb?.();
  },
};

function paymentsPage(h: Household, page: number): string {
  const lines = h.payments.slice(page * PAGE, page * PAGE + PAGE).map((p) => `${p.date} ${p.amount} ${p.via}`);
  const more = (page + 1) * PAGE < h.payments.length;
  return `Mes paiements (${h.payments.length}):\n${lines.join('\n')}\n${more ? '98 Suite ' : ''}0 Retour`;
}

function buildMenu(): UssdMenu {
  const menu = new UssdMenu();
  menu.sessionConfig(sessionConfig);
  const household = async () => (await menu.session.get('household')) as Household | undefined;
  menu.startState({
    run: () => {
      void menu.session.set('household', HOUSEHOLDS.get(menu.args.phoneNumber)).then(() => menu.con(HOME));
    },
    next: { '1': 'coverage', '3': 'payments' },
  });
  menu.state('coverage', {
    run: () => {
      void household().then((h) => {
        if (!h) return menu.end('Numéro inconnu.');
        menu.con(
          `${h.head}, ${h.size} pers.\nCouvert jusqu'au ${h.until}\nReste ${h.remaining} pour ${h.month}\n1 Bénéficiaires\n2 Cotiser\n0 Retour`,
        );
      });
    },
    next: { '1': 'coverage.beneficiaries', '0': '__start__' },
  });
  menu.state('coverage.beneficiaries', {
    run: () => {
      void household().then((h) => {
        if (!h) return menu.end('Numéro inconnu.');
        menu.con(
          `Bénéficiaires (${h.beneficiaries.length}):\n${h.beneficiaries.map((b) => `${b.name}: ${b.status}`).join('\n')}\n0 Retour 00 Menu`,
        );
      });
    },
    next: { '0': 'coverage', '00': '__start__' },
  });
  menu.state('payments', {
    run: () => {
      void household().then(async (h) => {
        if (!h) return menu.end('Numéro inconnu.');
        await menu.session.set('page', 0);
        menu.con(paymentsPage(h, 0));
      });
    },
    next: { '98': 'payments.next', '0': '__start__' },
  });
  menu.state('payments.next', {
    run: () => {
      void Promise.all([household(), menu.session.get('page')]).then(async ([h, page]) => {
        if (!h) return menu.end('Numéro inconnu.');
        const next = Math.min(Number(page ?? 0) + 1, Math.ceil(h.payments.length / PAGE) - 1);
        await menu.session.set('page', next);
        menu.con(paymentsPage(h, next));
      });
    },
    next: { '98': 'payments.next', '0': 'payments' },
  });
  return menu;
}

const app = express();
app.use(express.urlencoded({ extended: false }));
app.post('/ussd', (req, res) => {
  const b = req.body as Record<string, string> | undefined;
  if (!b?.sessionId || !b.phoneNumber) {
    res.status(400).type('text/plain').send('sessionId: is required\n');
    return;
  }
  const menu = buildMenu();
  menu.on('error', (err: Error) => res.status(500).type('text/plain').send(`${err.message}\n`));
  void menu.run(
    { sessionId: b.sessionId, phoneNumber: b.phoneNumber, serviceCode: b.serviceCode ?? '', text: b.text ?? '' },
    (reply: string) => {
      res.type('text/plain').send(reply);
    },
  );
});

await serveForBench(app, { stats: () => ({ sessions: sessions.size, hops: 0, byMachine: {} }) });
