// The studio's microphone: records a take with the Web Audio API (raw samples, no codec), encodes
// it as a 16-bit PCM mono WAV at the microphone's rate, and posts it like the upload form does.
// The server converts it to the library's 8 kHz (src/voice/studio.ts), so nothing is resampled here.
const MAX_SECONDS = 90;

/** A WAV file of mono float samples in [-1, 1]. */
function wav(chunks, rate) {
  const samples = chunks.reduce((n, c) => n + c.length, 0);
  const view = new DataView(new ArrayBuffer(44 + samples * 2));
  const ascii = (at, s) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, samples * 2, true);
  let at = 44;
  for (const c of chunks)
    for (const v of c) {
      view.setInt16(at, Math.max(-1, Math.min(1, v)) * 0x7fff, true);
      at += 2;
    }
  return new Blob([view.buffer], { type: 'audio/wav' });
}

async function send(form, blob) {
  const body = new FormData();
  for (const name of ['_csrf', 'lang', 'slot']) body.append(name, form.elements[name].value);
  body.append('source', 'micro');
  body.append('file', blob, `${form.elements.slot.value}.wav`);
  const res = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' });
  if (res.redirected) return location.assign(res.url);
  // A refusal is the studio page with the reason: show it as the form's answer would be.
  document.open();
  document.write(await res.text());
  document.close();
}

function recorder(form, button) {
  let stop = null;
  button.addEventListener('click', async () => {
    if (stop) return stop();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } });
    } catch (err) {
      alert(`Micro indisponible : ${err.message}`);
      return;
    }
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(stream);
    const tap = ctx.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    tap.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    source.connect(tap);
    tap.connect(ctx.destination);
    const label = button.textContent;
    button.textContent = 'Arrêter et envoyer';
    button.classList.add('recording');
    const limit = setTimeout(() => stop?.(), MAX_SECONDS * 1000);
    stop = async () => {
      stop = null;
      clearTimeout(limit);
      tap.disconnect();
      source.disconnect();
      for (const t of stream.getTracks()) t.stop();
      const rate = ctx.sampleRate;
      await ctx.close();
      button.textContent = 'Envoi…';
      button.disabled = true;
      try {
        await send(form, wav(chunks, rate));
      } catch (err) {
        alert(`Envoi impossible : ${err.message}`);
        button.textContent = label;
        button.disabled = false;
        button.classList.remove('recording');
      }
    };
  });
}

if (navigator.mediaDevices?.getUserMedia && window.AudioContext) {
  for (const form of document.querySelectorAll('form.take')) {
    const button = form.querySelector('button.record');
    button.hidden = false;
    recorder(form, button);
  }
}
