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
