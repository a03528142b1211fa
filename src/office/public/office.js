// While a long form (an import) is sent, say so and prevent a second submission.
for (const form of document.querySelectorAll('form[data-busy]')) {
  form.addEventListener('submit', () => {
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    const note = document.createElement('p');
    note.className = 'busy';
    note.setAttribute('role', 'status');
    note.textContent = form.dataset.busy;
    form.append(note);
  });
}

// A campaign that is sending: its counts update every 2 s until it stops.
const live = document.querySelector('[data-progress-url]');
if (live && ['sending', 'scheduled'].includes(live.dataset.state)) {
  const timer = setInterval(async () => {
    const res = await fetch(live.dataset.progressUrl, { credentials: 'same-origin' });
    if (!res.ok) return clearInterval(timer);
    const p = await res.json();
    for (const [name, value] of Object.entries(p.counts)) {
      const cell = live.querySelector(`[data-count="${name}"]`);
      if (cell) cell.textContent = String(value);
    }
    live.dataset.state = p.state;
    if (!['sending', 'scheduled'].includes(p.state)) clearInterval(timer);
  }, 2000);
}
