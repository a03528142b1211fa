// The browser phone: feature phones that dial through the simulated gateway (/simulator/api/ussd/*),
// read their SMS inbox and answer Orange Money's PIN prompt. No framework, no build step: every
// text from the application is set with textContent, so nothing it sends can run as markup.

const api = {
  async get(path) {
    const res = await fetch(path);
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  },
  async post(path, body) {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  },
};

/** A small element builder: attributes, then children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (v !== false && v !== undefined) el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

const fcfa = (n) => `${String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')} FCFA`;
const clock = () => new Date().toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const SLOW_MS = 3000;
/** How long an END screen stays before the operator's prompt replaces it. */
const READ_MS = 2000;
/** Handsets show this while the network carries a hop. */
const WAITING = 'Code USSD en cours…';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

let config = { serviceCode: '*384*123#', phones: [], limits: {} };
const phones = [];

function gatewaySettings() {
  return {
    url: document.getElementById('app-url').value,
    eventsUrl: document.getElementById('events-url').value,
    code: document.getElementById('service-code').value.trim(),
  };
}

function log(phone, kind, exchange) {
  const pre = (s) => h('pre', {}, s ?? '');
  const bad = exchange.error || (exchange.httpStatus && exchange.httpStatus !== 200);
  const row = h(
    'tr',
    { class: bad ? 'bad' : undefined },
    h('td', {}, clock()),
    h('td', {}, phone),
    h('td', {}, kind),
    h('td', {}, pre(exchange.request)),
    h('td', {}, exchange.httpStatus == null ? '—' : String(exchange.httpStatus)),
    h('td', {}, pre(exchange.error ? `${exchange.response ?? ''}\n⚠ ${exchange.error}`.trim() : exchange.response)),
    h('td', {}, exchange.ms == null ? '' : `${exchange.ms} ms${exchange.delayMs ? ` (+${exchange.delayMs} ms réseau)` : ''}`),
  );
  document.getElementById('log').prepend(row);
}

function logEnd(phone, ended) {
  if (!ended) return;
  const n = ended.notification;
  const d = ended.delivery;
  log(phone, `fin de session: ${n.status}`, {
    request: d
      ? `POST ${d.url}\n${new URLSearchParams(n).toString()}`
      : `(pas d'URL de notification)\n${new URLSearchParams(n).toString()}`,
    httpStatus: d ? d.httpStatus : null,
    response: '',
    error: d?.error,
    ms: null,
  });
}

class Phone {
  constructor(number) {
    this.number = number;
    this.mode = 'idle'; // idle | busy | session | ended | pin
    this.entry = '';
    this.sessionId = null;
    this.text = '';
    this.error = '';
    this.seen = null; // SMS ids already shown, once the first poll has run
    this.fresh = new Set();
    this.pending = null;
    this.endedAt = 0;
    this.build();
    this.render();
    this.poll();
    this.timer = setInterval(() => this.poll(), 1000);
  }

  build() {
    const choices = config.phones.map((p) => h('option', { value: p.phone, selected: p.phone === this.number }, `${p.phone} · ${p.label}`));
    this.select = h(
      'select',
      { 'aria-label': 'Numéro', on: { change: () => this.setNumber(this.select.value) } },
      ...choices,
      h('option', { value: '' }, 'Autre numéro…'),
    );
    this.other = h('input', {
      type: 'tel',
      placeholder: '+223…',
      hidden: true,
      'aria-label': 'Autre numéro',
      on: { change: () => this.setNumber(this.other.value.trim()) },
    });
    this.bar = h('div', { class: 'bar' });
    this.body = h('div', { class: 'body' });
    this.count = h('div', { class: 'count' });
    this.screen = h('div', { class: 'screen', 'data-testid': 'screen' }, this.bar, this.body, this.count);
    const key = (k, cls, label, title) =>
      h(
        'button',
        {
          type: 'button',
          class: cls,
          'data-key': k,
          title,
          tabindex: '-1',
          on: {
            click: () => {
              this.handset.focus();
              this.press(k);
            },
          },
        },
        label,
      );
    this.handset = h(
      'div',
      {
        class: 'handset',
        tabindex: '0',
        'aria-label': 'Téléphone',
        on: {
          keydown: (e) => this.onKey(e),
          paste: (e) => {
            e.preventDefault();
            this.type(e.clipboardData.getData('text'));
          },
          focus: () => this.handset.classList.add('focused'),
          blur: () => this.handset.classList.remove('focused'),
        },
      },
      this.screen,
      h(
        'div',
        { class: 'keys' },
        key('green', 'green', '✆', 'Appeler / envoyer (Entrée)'),
        key('clear', 'clear', 'C', 'Effacer (⌫)'),
        key('red', 'red', '✕', 'Raccrocher (Échap)'),
        ...KEYS.map((k) => key(k, 'digit', k)),
      ),
    );
    this.slow = h('input', { type: 'checkbox' });
    this.inbox = h('ul', { class: 'inbox', 'data-testid': 'inbox' });
    this.wallet = h('div', { 'data-testid': 'wallet' }, '…');
    this.el = h(
      'section',
      { class: 'phone', 'data-phone': this.number },
      h(
        'div',
        { class: 'who' },
        this.select,
        this.other,
        h('button', { type: 'button', title: 'Retirer ce téléphone', on: { click: () => this.remove() } }, 'Retirer'),
      ),
      this.handset,
      h(
        'div',
        { class: 'faults' },
        h('label', {}, this.slow, ` Réseau lent (+${SLOW_MS / 1000} s)`),
        h('button', { type: 'button', on: { click: () => this.drop() } }, 'Couper la session'),
        h('button', { type: 'button', on: { click: () => this.retry() } }, 'Renvoyer le même saut'),
      ),
      h('div', { class: 'panel' }, h('h3', {}, 'Orange Money'), this.wallet),
      h('div', { class: 'panel' }, h('h3', {}, 'SMS reçus'), this.inbox),
    );
  }

  setNumber(n) {
    this.other.hidden = this.select.value !== '';
    if (!n) return this.other.focus();
    if (this.mode === 'session') void this.hangUp();
    this.number = n;
    this.el.dataset.phone = n;
    this.seen = null;
    this.inbox.replaceChildren();
    this.toIdle();
    void this.poll();
  }

  onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const map = { Enter: 'green', Escape: 'red', Backspace: 'clear' };
    if (map[e.key]) {
      e.preventDefault();
      return this.press(map[e.key]);
    }
    // Letters too: a handset types them by multi-tap, and the application must cope.
    if (e.key.length === 1) {
      e.preventDefault();
      this.type(e.key);
    }
  }

  press(k) {
    if (k === 'green') return void this.green();
    if (k === 'red') return void this.red();
    if (k === 'clear') {
      this.entry = this.entry.slice(0, -1);
      return this.render();
    }
    this.type(k);
  }

  type(s) {
    if (this.mode === 'busy') return;
    if (this.mode === 'ended') this.toIdle();
    this.entry += s;
    this.render();
  }

  speed() {
    return this.slow.checked ? SLOW_MS : 0;
  }

  async green() {
    if (this.mode === 'idle') return this.dial();
    if (this.mode === 'session') return this.send();
    if (this.mode === 'pin') return this.confirmPin();
    if (this.mode === 'ended') this.toIdle();
  }

  async red() {
    if (this.mode === 'session') return this.hangUp();
    if (this.mode === 'pin') return this.refusePin();
    this.toIdle();
  }

  toIdle() {
    this.mode = 'idle';
    this.entry = '';
    this.text = '';
    this.error = '';
    this.sessionId = null;
    if (this.pending) this.mode = 'pin';
    this.render();
  }

  async dial() {
    const g = gatewaySettings();
    const dialled = this.entry.trim() || g.code;
    if (dialled !== g.code) {
      this.mode = 'ended';
      this.text = '';
      this.error = `Code IHM non valide: ${dialled}\n(le service est ${g.code})`;
      return this.render();
    }
    await this.hop('composer', () =>
      api.post('/simulator/api/ussd/dial', { phone: this.number, code: g.code, url: g.url, eventsUrl: g.eventsUrl, delayMs: this.speed() }),
    );
  }

  async send() {
    const input = this.entry;
    await this.hop(`réponse « ${input.length > 20 ? `${input.slice(0, 20)}…` : input} »`, () =>
      api.post('/simulator/api/ussd/answer', { sessionId: this.sessionId, input, delayMs: this.speed() }),
    );
  }

  async retry() {
    if (this.mode !== 'session') return;
    await this.hop('même saut renvoyé', () => api.post('/simulator/api/ussd/retry', { sessionId: this.sessionId, delayMs: this.speed() }));
  }

  /** One hop: the phone waits, then shows the application's screen or the handset's error. */
  async hop(kind, call) {
    const before = { mode: this.mode, entry: this.entry };
    this.mode = 'busy';
    this.render();
    let r;
    try {
      r = await call();
    } catch (err) {
      r = { status: 0, body: `le simulateur ne répond pas: ${err.message}` };
    }
    if (r.status !== 200) {
      // The simulator itself refused (a bad URL or number): nothing reached the application.
      log(this.number, kind, {
        request: '',
        httpStatus: r.status,
        response: '',
        error: typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
      });
      Object.assign(this, before);
      this.error = typeof r.body === 'string' ? r.body.trim() : 'requête refusée';
      return this.render();
    }
    const hop = r.body;
    log(this.number, kind, {
      request: hop.request ? `POST ${hop.request.url}\n${hop.request.body}` : '(non transmis)',
      httpStatus: hop.httpStatus,
      response: hop.response,
      error: hop.error,
      ms: hop.ms,
      delayMs: hop.delayMs,
    });
    logEnd(this.number, hop.closed);
    this.sessionId = hop.sessionId;
    this.error = hop.error ?? '';
    if (hop.request === null && !hop.end) {
      // Refused by the gateway (an answer too long): the screen stays, the member types again.
      Object.assign(this, before);
      this.error = hop.error;
    } else {
      this.text = hop.screen;
      this.entry = '';
      this.mode = hop.end ? 'ended' : 'session';
      this.endedAt = Date.now();
    }
    this.render();
  }

  async hangUp() {
    const id = this.sessionId;
    this.toIdle();
    if (id) logEnd(this.number, (await api.post('/simulator/api/ussd/hangup', { sessionId: id, how: 'user' })).body);
  }

  async drop() {
    if (this.mode !== 'session') return;
    const id = this.sessionId;
    this.mode = 'ended';
    this.text = '';
    this.error = 'Connexion perdue (coupure réseau simulée)';
    this.render();
    logEnd(this.number, (await api.post('/simulator/api/ussd/hangup', { sessionId: id, how: 'dropped' })).body);
  }

  async confirmPin() {
    const r = await api.post('/simulator/api/wallet/confirm', { phone: this.number, pin: this.entry });
    log(this.number, 'Orange Money: code secret', {
      request: `POST /simulator/api/wallet/confirm\n{"phone":"${this.number}","pin":"****"}`,
      httpStatus: r.status,
      response: JSON.stringify(r.body),
      ms: null,
    });
    this.entry = '';
    if (r.status === 409) {
      this.error = `Code secret incorrect, ${r.body.triesLeft} essai(s) restant(s)`;
      return this.render();
    }
    this.pending = null;
    this.mode = 'ended';
    this.error = '';
    this.text =
      r.status === 200
        ? r.body.status === 'succeeded'
          ? `Orange Money: paiement effectué.\nNouveau solde: ${fcfa(r.body.balance)}`
          : `Orange Money: paiement échoué (${r.body.reason}).\nSolde: ${fcfa(r.body.balance)}`
        : `Orange Money: ${r.body.error ?? 'erreur'}`;
    this.render();
    void this.poll();
  }

  async refusePin() {
    const r = await api.post('/simulator/api/wallet/refuse', { phone: this.number });
    log(this.number, 'Orange Money: refus', {
      request: `POST /simulator/api/wallet/refuse\n{"phone":"${this.number}"}`,
      httpStatus: r.status,
      response: JSON.stringify(r.body),
      ms: null,
    });
    this.pending = null;
    this.toIdle();
  }

  /** The inbox and the wallet, as the phone would learn of them: new SMS stand out, a payment prompt takes the screen. */
  async poll() {
    const number = this.number;
    try {
      const [sms, wallet] = await Promise.all([
        api.get(`/simulator/api/sms?phone=${encodeURIComponent(number)}`),
        api.get(`/simulator/api/wallet?phone=${encodeURIComponent(number)}`),
      ]);
      if (number !== this.number) return;
      if (sms.status === 200) this.showInbox(sms.body);
      this.showWallet(wallet);
    } catch {
      this.wallet.textContent = 'simulateur injoignable';
    }
  }

  showInbox(messages) {
    const first = this.seen === null;
    this.seen ??= new Set();
    for (const m of messages) if (!first && !this.seen.has(m.id)) this.fresh.add(m.id);
    messages.forEach((m) => this.seen.add(m.id));
    this.inbox.replaceChildren(
      ...messages
        .slice()
        .reverse()
        .map((m) =>
          h(
            'li',
            { class: this.fresh.has(m.id) ? 'new' : undefined, 'data-status': m.status },
            h(
              'div',
              { class: 'meta' },
              h('span', {}, `${m.from ?? 'UTM'} · ${new Date(m.createdAt).toLocaleString('fr-FR')}`),
              h('span', { class: `status-${m.status}` }, `${m.status} · ${m.segments} SMS`),
            ),
            m.text,
          ),
        ),
    );
    if (messages.length === 0) this.inbox.append(h('li', { class: 'meta' }, 'Aucun SMS'));
  }

  async openWallet() {
    const r = await api.post('/simulator/api/wallet', { phone: this.number });
    log(this.number, 'Orange Money: ouverture de compte', {
      request: `POST /simulator/api/wallet\n{"phone":"${this.number}"}`,
      httpStatus: r.status,
      response: JSON.stringify(r.body),
      ms: null,
    });
    void this.poll();
  }

  showWallet(r) {
    if (r.status === 404) {
      this.pending = null;
      if (this.wallet.dataset.none === this.number) return;
      this.wallet.dataset.none = this.number;
      this.wallet.replaceChildren(
        'Pas de compte Orange Money pour ce numéro. ',
        h('button', { type: 'button', on: { click: () => this.openWallet() } }, 'Ouvrir un compte simulé (10 000 FCFA, code 1234)'),
      );
      return;
    }
    if (r.status !== 200) return;
    const w = r.body;
    delete this.wallet.dataset.none;
    this.wallet.textContent =
      `Solde ${fcfa(w.balance)}${w.state === 'blocked' ? ' · bloqué (3 codes faux)' : ''}` +
      (w.pending ? ` · paiement en attente: ${fcfa(w.pending.debit)}` : '');
    this.pending = w.pending;
    // The operator's prompt arrives on the handset once it is free, as a push from Orange, and
    // leaves the application's last screen up long enough to be read.
    const free = this.mode === 'idle' || (this.mode === 'ended' && Date.now() - this.endedAt > READ_MS);
    if (w.pending && free) {
      this.mode = 'pin';
      this.entry = '';
      this.error = '';
      this.render();
    } else if (!w.pending && this.mode === 'pin') {
      this.toIdle();
    }
  }

  render() {
    const g = gatewaySettings();
    this.bar.replaceChildren(h('span', {}, 'Orange ML ▂▄▆'), h('span', {}, this.number));
    const parts = [];
    let shown = '';
    if (this.mode === 'idle') {
      parts.push(h('div', { class: 'hint' }, `Tapez ${g.code} puis ✆`));
      parts.push(h('div', { class: 'entry', 'data-testid': 'entry' }, this.entry));
    } else if (this.mode === 'busy') {
      parts.push(h('div', { class: 'hint' }, WAITING));
    } else if (this.mode === 'pin') {
      const p = this.pending;
      parts.push(
        `Orange Money\nPayer ${fcfa(p.amount)} à UTM (frais ${fcfa(p.fee)}), total ${fcfa(p.debit)}.\nRéf ${p.merchantReference}\nCode secret (✆ valider, ✕ refuser):`,
      );
      parts.push(h('div', { class: 'entry', 'data-testid': 'entry' }, '*'.repeat(this.entry.length)));
    } else {
      shown = this.text;
      if (this.text) parts.push(h('div', { 'data-testid': 'text' }, this.text));
      if (this.mode === 'session') parts.push(h('div', { class: 'entry', 'data-testid': 'entry' }, this.entry));
    }
    if (this.error) parts.push(h('div', { class: 'error', 'data-testid': 'error' }, this.error));
    this.body.replaceChildren(...parts);
    this.body.scrollTop = 0;
    this.count.textContent = shown ? `${shown.length} car.${this.mode === 'ended' ? ' · fin' : ''}` : '';
    this.el.dataset.mode = this.mode;
  }

  remove() {
    clearInterval(this.timer);
    if (this.mode === 'session') void this.hangUp();
    this.el.remove();
    phones.splice(phones.indexOf(this), 1);
  }
}

function addPhone() {
  const used = new Set(phones.map((p) => p.number));
  const next = config.phones.find((p) => !used.has(p.phone))?.phone ?? config.phones[0]?.phone ?? '+22376000001';
  const p = new Phone(next);
  phones.push(p);
  document.getElementById('phones').append(p.el);
  return p;
}

async function start() {
  const r = await api.get('/simulator/api/ussd/config');
  if (r.status === 200) config = r.body;
  // The server's own address, which its gateway may always post to (another host may be refused).
  document.getElementById('app-url').value = config.appUrl ?? `${location.origin}/ussd`;
  document.getElementById('events-url').value = config.eventsUrl ?? `${location.origin}/ussd/events`;
  document.getElementById('service-code').value = config.serviceCode;
  document.getElementById('add-phone').addEventListener('click', addPhone);
  document.getElementById('clear-log').addEventListener('click', () => document.getElementById('log').replaceChildren());
  document.getElementById('service-code').addEventListener('input', () => phones.forEach((p) => p.render()));
  addPhone();
  // A page closed mid-session hangs up as the member would, so the application is told (Incomplete).
  addEventListener('pagehide', () => {
    for (const p of phones) {
      if (p.mode === 'session' && p.sessionId) {
        navigator.sendBeacon('/simulator/api/ussd/hangup', JSON.stringify({ sessionId: p.sessionId, how: 'user' }));
      }
    }
  });
}

void start();
