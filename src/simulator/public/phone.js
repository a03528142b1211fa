// The browser phone: feature phones that dial through the simulated gateway (/simulator/api/ussd/*),
// call UTM's voice number and take UTM's calls (/simulator/api/voice/*), read their SMS inbox and
// answer Orange Money's PIN prompt. No framework, no build step: every
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
/** Handsets show this while the network carries a hop. */
const WAITING = 'Code USSD en cours…';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

// handset: how often a phone polls, and how long an END screen stays before the operator's prompt replaces it.
let config = { serviceCode: '*384*123#', phones: [], limits: {}, handset: { pollMs: 1000, readMs: 2000 } };
let voiceConfig = { voiceNumber: null };
/** What each event of a voice call is called in the log. */
const VOICE_EVENT = { start: 'appel vocal', answer: 'appel de UTM décroché', digits: 'touches', timeout: 'délai écoulé (aucune touche)' };
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
    this.call = null; // the voice call in progress (the gateway's view of it)
    this.logged = 0; // its exchanges already in the log
    this.keys = ''; // keys typed for the prompt that collects them
    this.incoming = null; // a call from UTM ringing this phone
    this.acted = 0; // bumped around the phone's own wallet and ringing requests (see act)
    this.build();
    this.render();
    this.poll();
    this.timer = setInterval(() => this.poll(), config.handset.pollMs);
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
    this.audio = h('audio', { preload: 'auto', controls: true, 'aria-label': 'Message vocal' });
    this.audio.addEventListener('ended', () => this.playNext());
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
      h(
        'div',
        { class: 'faults' },
        h('button', { type: 'button', on: { click: () => this.voiceCall() } }, 'Appeler le numéro vocal'),
        h('button', { type: 'button', on: { click: () => this.voiceHangUp() } }, 'Raccrocher'),
        this.audio,
      ),
      h('div', { class: 'panel' }, h('h3', {}, 'Orange Money'), this.wallet),
      h('div', { class: 'panel' }, h('h3', {}, 'SMS reçus'), this.inbox),
    );
  }

  setNumber(n) {
    this.other.hidden = this.select.value !== '';
    if (!n) return this.other.focus();
    if (this.mode === 'session') void this.hangUp();
    if (this.mode === 'voice') void this.voiceHangUp();
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
    if (this.mode === 'voice' && KEYS.includes(k)) return void this.voiceKey(k);
    if (k === 'green') return void this.green();
    if (k === 'red') return void this.red();
    if (k === 'clear') {
      this.entry = this.entry.slice(0, -1);
      return this.render();
    }
    this.type(k);
  }

  type(s) {
    if (this.mode === 'busy' || this.mode === 'voice' || this.mode === 'incoming') return;
    if (this.mode === 'ended') this.toIdle();
    this.entry += s;
    this.render();
  }

  speed() {
    return this.slow.checked ? SLOW_MS : 0;
  }

  async green() {
    if (this.mode === 'incoming') return this.pickUp();
    // The green key ends a number (it sends the finishing key); a menu waits for its key.
    if (this.mode === 'voice') return this.call?.collect?.finishOnKey ? this.voiceKey(this.call.collect.finishOnKey) : undefined;
    if (this.mode === 'idle' && this.isVoiceNumber(this.entry)) return this.voiceCall();
    if (this.mode === 'idle') return this.dial();
    if (this.mode === 'session') return this.send();
    if (this.mode === 'pin') return this.confirmPin();
    if (this.mode === 'ended') this.toIdle();
  }

  async red() {
    if (this.mode === 'incoming') return this.declineCall();
    if (this.mode === 'voice') return this.voiceHangUp();
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
    this.call = null;
    this.keys = '';
    if (this.pending) this.mode = 'pin';
    this.render();
  }

  /** The voice number as typed: international, or the national 8 digits. */
  isVoiceNumber(typed) {
    const n = voiceConfig.voiceNumber;
    const t = typed.replace(/\s/g, '');
    return Boolean(n) && t !== '' && (t === n || (n.startsWith('+223') && t === n.slice(4)));
  }

  /** Calls UTM's voice number: the gateway posts the call to the application and plays its answer. */
  async voiceCall() {
    if (this.mode === 'session') await this.hangUp();
    if (this.mode === 'voice' || this.mode === 'incoming') return;
    this.mode = 'busy';
    this.render();
    await this.voiceStep(() => api.post('/simulator/api/voice/call', { phone: this.number }), true);
  }

  async pickUp() {
    const ringing = this.incoming;
    this.incoming = null;
    this.mode = 'busy';
    this.render();
    await this.voiceStep(() => this.act(() => api.post('/simulator/api/voice/answer', { sessionId: ringing.sessionId })), true);
  }

  async declineCall() {
    const ringing = this.incoming;
    this.incoming = null;
    this.toIdle();
    const r = await this.act(() => api.post('/simulator/api/voice/decline', { sessionId: ringing.sessionId }));
    if (r.status === 200) this.logCall(r.body, 0);
  }

  /** A key on the keypad during a call: sent once the prompt's collection is complete (one key for a menu, '#' after a number). */
  async voiceKey(k) {
    const c = this.call?.collect;
    if (!c || this.call.status !== 'active') return;
    this.keys += k;
    this.render();
    const done = (c.finishOnKey && k === c.finishOnKey) || (c.numDigits && this.keys.length >= c.numDigits);
    if (!done) return;
    const keys = this.keys;
    this.keys = '';
    // Nothing more is collected until the application answers the keys.
    this.call = { ...this.call, collect: null };
    await this.voiceStep(() => api.post('/simulator/api/voice/press', { sessionId: this.call.sessionId, keys }));
  }

  async voiceHangUp() {
    if (this.mode !== 'voice' || !this.call) return;
    await this.voiceStep(() => api.post('/simulator/api/voice/hangup', { sessionId: this.call.sessionId }));
  }

  /** One request to the voice gateway; the call as it now stands is shown, played and logged. */
  async voiceStep(request, fresh = false) {
    let r;
    this.voiceBusy = true;
    try {
      r = await request();
    } catch (err) {
      r = { status: 0, body: `le simulateur ne répond pas: ${err.message}` };
    } finally {
      this.voiceBusy = false;
    }
    if (r.status !== 200) {
      log(this.number, 'appel vocal', {
        request: '',
        httpStatus: r.status,
        response: '',
        error: typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
      });
      this.mode = 'ended';
      this.text = '';
      this.error = typeof r.body === 'string' ? r.body.trim() : (r.body.error ?? 'requête refusée');
      return this.render();
    }
    this.showCall(r.body, fresh);
  }

  /** The gateway's view of the call: new exchanges logged, a new prompt played, the end shown. */
  showCall(call, fresh = false) {
    if (fresh) this.logged = 0;
    const before = this.call;
    const newPrompt = fresh || before?.exchanges.length !== call.exchanges.length;
    this.logged = this.logCall(call, this.logged);
    this.call = call;
    this.error = call.error ?? '';
    if (newPrompt && call.prompt) this.playPrompt(call.prompt);
    if (call.status === 'ended') {
      this.mode = 'ended';
      this.endedAt = Date.now();
      const why = call.rejected
        ? 'appel rejeté (gratuit)'
        : `appel terminé (${call.end?.hangupCause ?? ''}, ${call.end?.durationInSeconds ?? 0} s)`;
      this.text = `${call.prompt ? `🔊 ${call.prompt.caption}\n\n` : ''}${why}`;
    } else {
      this.mode = 'voice';
    }
    this.render();
  }

  logCall(call, from) {
    for (const x of call.exchanges.slice(from)) {
      const form = new URLSearchParams(x.request.body);
      const kind =
        x.kind === 'end'
          ? `fin d'appel: ${form.get('hangupCause')}`
          : x.kind === 'digits'
            ? `${VOICE_EVENT.digits} « ${form.get('dtmfDigits') ?? ''} »`
            : VOICE_EVENT[x.kind];
      log(this.number, kind, {
        request: `POST ${x.request.url}\n${x.request.body}`,
        httpStatus: x.httpStatus,
        response: x.response,
        error: x.error,
        ms: x.ms,
      });
    }
    return call.exchanges.length;
  }

  /** Plays the prompt's audio files one after the other; a browser that blocks autoplay still shows the caption. */
  playPrompt(prompt) {
    this.queue = [...prompt.audio];
    this.audio.pause();
    this.playNext();
  }

  playNext() {
    const next = this.queue?.shift();
    if (!next) return;
    this.audio.src = next;
    this.audio.play().catch(() => {});
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

  /**
   * A request of the phone's own that changes what a poll reads (the wallet, a ringing call): a poll
   * begun before it ends answers with the state before it, and is dropped (else a PIN prompt already
   * answered, or a call already picked up, would come back on the screen).
   */
  async act(request) {
    this.acted++;
    try {
      return await request();
    } finally {
      this.acted++;
    }
  }

  async confirmPin() {
    const r = await this.act(() => api.post('/simulator/api/wallet/confirm', { phone: this.number, pin: this.entry }));
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
    const r = await this.act(() => api.post('/simulator/api/wallet/refuse', { phone: this.number }));
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
    const acted = this.acted;
    try {
      const [sms, wallet, ringing] = await Promise.all([
        api.get(`/simulator/api/sms?phone=${encodeURIComponent(number)}`),
        api.get(`/simulator/api/wallet?phone=${encodeURIComponent(number)}`),
        api.get(`/simulator/api/voice/ringing?phone=${encodeURIComponent(number)}`),
      ]);
      if (number !== this.number || acted !== this.acted) return;
      if (sms.status === 200) this.showInbox(sms.body);
      this.showWallet(wallet);
      if (ringing.status === 200) this.showRinging(ringing.body);
      // The gateway times a prompt out, or ends the call, on its own: the phone learns it here.
      // Only a newer state, and never over a request of the phone's own still on its way.
      if (this.mode === 'voice' && this.call && !this.voiceBusy) {
        const now = await api.get(`/simulator/api/voice/call?sessionId=${encodeURIComponent(this.call.sessionId)}`);
        const newer = now.status === 200 && now.body.exchanges.length > (this.call?.exchanges.length ?? Number.POSITIVE_INFINITY);
        if (newer && this.mode === 'voice' && !this.voiceBusy) this.showCall(now.body);
      }
    } catch {
      this.wallet.textContent = 'simulateur injoignable';
    }
  }

  /** A call from UTM rings a free phone: "Appel entrant", answered with Décrocher (green) or Refuser (red). */
  showRinging(calls) {
    const first = calls[0];
    if (this.mode === 'incoming' && !calls.some((c) => c.sessionId === this.incoming?.sessionId)) {
      this.incoming = null;
      return this.toIdle();
    }
    const free = this.mode === 'idle' || (this.mode === 'ended' && Date.now() - this.endedAt > config.handset.readMs);
    if (!first || !free) return;
    this.incoming = first;
    this.mode = 'incoming';
    this.render();
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
    const r = await this.act(() => api.post('/simulator/api/wallet', { phone: this.number }));
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
    const free = this.mode === 'idle' || (this.mode === 'ended' && Date.now() - this.endedAt > config.handset.readMs);
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
      parts.push(
        h(
          'div',
          { class: 'hint' },
          `Tapez ${g.code} puis ✆${voiceConfig.voiceNumber ? `\nou ${voiceConfig.voiceNumber} ✆ (appel vocal)` : ''}`,
        ),
      );
      parts.push(h('div', { class: 'entry', 'data-testid': 'entry' }, this.entry));
    } else if (this.mode === 'busy') {
      parts.push(h('div', { class: 'hint' }, this.call || this.incoming ? 'Appel en cours…' : WAITING));
    } else if (this.mode === 'incoming') {
      parts.push(
        h('div', { 'data-testid': 'incoming' }, `Appel entrant de UTM\n${this.incoming.utm}`),
        h(
          'div',
          { class: 'answer' },
          h('button', { type: 'button', class: 'pick-up', on: { click: () => this.pickUp() } }, 'Décrocher'),
          h('button', { type: 'button', class: 'decline', on: { click: () => this.declineCall() } }, 'Refuser'),
        ),
      );
    } else if (this.mode === 'voice') {
      const c = this.call;
      const collect = c.collect;
      parts.push(
        h('div', { class: 'hint' }, `📞 ${c.direction === 'Inbound' ? 'Appel vers' : 'Appel de'} UTM ${c.utm}`),
        h('div', { 'data-testid': 'caption' }, c.prompt ? `🔊 ${c.prompt.caption}` : ''),
      );
      if (collect) {
        parts.push(
          h('div', { class: 'hint' }, collect.numDigits === 1 ? 'Tapez une touche' : `Tapez le nombre puis ${collect.finishOnKey ?? '#'}`),
          h('div', { class: 'entry', 'data-testid': 'entry' }, this.keys),
        );
      }
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
    this.count.textContent = shown && !this.call ? `${shown.length} car.${this.mode === 'ended' ? ' · fin' : ''}` : '';
    this.el.dataset.mode = this.mode;
  }

  remove() {
    clearInterval(this.timer);
    if (this.mode === 'session') void this.hangUp();
    if (this.mode === 'voice') void this.voiceHangUp();
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
  const [r, v] = await Promise.all([api.get('/simulator/api/ussd/config'), api.get('/simulator/api/voice/config')]);
  if (r.status === 200) config = r.body;
  if (v.status === 200) voiceConfig = v.body;
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
      if (p.mode === 'voice' && p.call)
        navigator.sendBeacon('/simulator/api/voice/hangup', JSON.stringify({ sessionId: p.call.sessionId }));
    }
  });
}

void start();
