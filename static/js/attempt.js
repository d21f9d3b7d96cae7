// A quiz attempt that loses nothing. Every change of an answer is written to this browser's local storage at
// once and sent to the server (attempt, question, sequence number): the server applies a save once and never
// lets an older one overwrite a newer one (an answer refused because the server holds a number as high, from
// another tab or a save stored after this page was read, is the learner's latest: it goes again, numbered
// above). Unconfirmed answers stay in local storage: after one failed save a
// «Нет связи» banner shows and the saves are retried; after a reload they are put back into the form and sent.
// The timer counts down the server's remaining time and is corrected by every save's answer.
// A file chosen for an essay is sent at once, and kept in its field until the server has it.
// Without this script the page is a plain form: its buttons save the page's answers and files.

const form = document.querySelector('form[data-attempt]');
const timerBox = document.querySelector('[data-timer]');

function pad(n) {
  return String(n).padStart(2, '0');
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** The countdown: `deadline` is a moment of this page's clock (performance.now()). */
const timer = {
  deadline: null,
  onZero: null,
  warned: false,
  start(secondsLeft, onZero) {
    if (!timerBox) return;
    this.onZero = onZero;
    this.set(secondsLeft);
    setInterval(() => this.tick(), 1000);
  },
  set(secondsLeft) {
    this.deadline = performance.now() + secondsLeft * 1000;
    this.tick();
  },
  left() {
    return this.deadline === null ? null : (this.deadline - performance.now()) / 1000;
  },
  tick() {
    const left = this.left();
    if (left === null) return;
    const text = timerBox.querySelector('[data-timer-text]');
    if (text) text.textContent = clock(left);
    timerBox.classList.toggle('timer--low', left <= 300);
    if (left <= 300 && !this.warned && left > 0) {
      this.warned = true;
      timerBox.setAttribute('role', 'status');
    }
    if (left <= 0 && this.onZero) {
      const fn = this.onZero;
      this.onZero = null;
      fn();
    }
  },
};

if (timerBox) {
  const seconds = Number(timerBox.dataset.secondsLeft);
  if (!form) {
    // the summary page: at the deadline the server closes the attempt; reloading shows what happened
    timer.start(seconds, () => window.location.reload());
  }
}

if (form) {
  const attemptId = form.dataset.attempt;
  const KEY = `lms-attempt-${attemptId}`;
  const saveUrl = form.dataset.saveUrl;
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  const banner = document.querySelector('[data-offline-banner]');
  const status = document.querySelector('[data-save-status]');
  const sections = [...form.querySelectorAll('section[data-slot]')];
  const bySlot = new Map(sections.map((s) => [Number(s.dataset.slot), s]));

  const load = () => {
    try {
      return JSON.parse(window.localStorage.getItem(KEY) || '{}') || {};
    } catch {
      return {};
    }
  };
  const store = (value) => {
    try {
      if (Object.keys(value).length) window.localStorage.setItem(KEY, JSON.stringify(value));
      else window.localStorage.removeItem(KEY);
    } catch {
      /* private mode or a full storage: the server still gets every save */
    }
  };

  /** slot → {seq, values} not yet confirmed by the server */
  const pending = load();
  const seqs = new Map();
  let closed = false;
  let offline = false;
  let leaving = false;

  const prefixOf = (slot) => `q${slot}`;
  const mine = (name, prefix) => name === prefix || (name.startsWith(`${prefix}-`) && /^\d+$/.test(name.slice(prefix.length + 1)));

  function valuesOf(section, slot) {
    const prefix = prefixOf(slot);
    const out = {};
    for (const el of section.querySelectorAll('[data-answer]')) {
      if (!el.name || !mine(el.name, prefix)) continue;
      const suffix = el.name.slice(prefix.length);
      if (el.type === 'checkbox') {
        if (!Array.isArray(out[suffix])) out[suffix] = [];
        if (el.checked) out[suffix].push(el.value);
      } else if (el.type === 'radio') {
        if (el.checked) out[suffix] = el.value;
        else if (!(suffix in out)) out[suffix] = '';
      } else {
        out[suffix] = el.value;
      }
    }
    return out;
  }

  function fill(section, slot, values) {
    const prefix = prefixOf(slot);
    for (const el of section.querySelectorAll('[data-answer]')) {
      if (!el.name || !mine(el.name, prefix)) continue;
      const value = values[el.name.slice(prefix.length)];
      if (value === undefined) continue;
      if (el.type === 'checkbox') el.checked = Array.isArray(value) && value.includes(el.value);
      else if (el.type === 'radio') el.checked = el.value === value;
      else el.value = value;
    }
  }

  function seqField(slot) {
    return bySlot.get(slot)?.querySelector('[data-seq-field]');
  }

  function setSeq(slot, seq) {
    seqs.set(slot, seq);
    const field = seqField(slot);
    if (field) field.value = String(seq + 1); // a plain submit of the page is newer than every save
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function setOffline(value) {
    offline = value;
    if (banner) banner.hidden = !value;
  }

  // A page-by-page quiz takes answers only on its current page: what this browser kept for an earlier page went
  // with that page's form (a newer number), and sending it now would be refused.
  if (form.dataset.sequential) {
    for (const slot of Object.keys(pending)) if (!bySlot.has(Number(slot))) delete pending[slot];
  }
  // What the server holds, and what this browser kept from before a reload.
  for (const [slot, section] of bySlot) {
    const server = Number(section.dataset.seq) || 0;
    const kept = pending[slot];
    if (kept && kept.seq > server) {
      fill(section, slot, kept.values);
      setSeq(slot, kept.seq);
    } else {
      delete pending[slot];
      setSeq(slot, server);
    }
  }
  store(pending);

  let timeout = null;
  let inflight = false;
  let again = false;
  let failures = 0;

  function schedule(delay) {
    clearTimeout(timeout);
    timeout = setTimeout(flush, delay);
  }

  function shut(message) {
    closed = true;
    setOffline(false);
    say(message || form.dataset.closedText);
    for (const el of form.querySelectorAll('[data-answer]')) el.disabled = true;
    window.setTimeout(() => window.location.assign(form.dataset.summaryUrl), 1500);
  }

  async function flush() {
    if (closed) return;
    if (inflight) {
      again = true;
      return;
    }
    const answers = Object.entries(pending).map(([slot, p]) => ({ slot: Number(slot), seq: p.seq, values: p.values }));
    if (!answers.length) return;
    inflight = true;
    say(form.dataset.savingText);
    try {
      const response = await fetch(saveUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf },
        body: JSON.stringify({ answers }),
      });
      if (response.status === 409 || response.status === 404) {
        const body = await response.json().catch(() => ({}));
        store({}); // the server will not take them; the page it shows next says why
        shut(body.error?.message);
        return;
      }
      if (response.status === 401) {
        // The session ended: the answers stay in this browser; after logging in again the page sends them.
        const body = await response.json().catch(() => ({}));
        say(body.error?.message || '');
        setOffline(false);
        return;
      }
      if (response.status === 422) {
        const body = await response.json().catch(() => ({}));
        say(body.error?.message || '');
        failures = 0;
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      for (const saved of body.saved || []) {
        const p = pending[saved.slot];
        if (!p) continue;
        if (saved.applied) {
          if (p.seq <= saved.seq) delete pending[saved.slot];
        } else if (p.seq <= saved.seq) {
          // The server holds a number as high as this answer's: another tab's save, or one stored after this
          // page was read. The answer here is the learner's latest: it goes again, numbered above the server's.
          p.seq = saved.seq + 1;
          setSeq(saved.slot, p.seq);
          again = true;
        }
      }
      // Leaving (a reload, a page button): the next page may have been read before this save was stored, so what
      // this browser kept stays for it; that page drops what the server already holds.
      if (!leaving) store(pending);
      failures = 0;
      setOffline(false);
      if (!Object.keys(pending).length) say(form.dataset.savedText);
      if (typeof body.seconds_left === 'number') timer.set(body.seconds_left);
    } catch {
      failures += 1;
      setOffline(true);
      schedule(Math.min(15000, 1000 * 2 ** Math.min(failures, 4)));
    } finally {
      inflight = false;
      if (again) {
        again = false;
        schedule(0);
      }
    }
  }

  function changed(event, delay) {
    const section = event.target.closest('section[data-slot]');
    if (!section || closed || !event.target.matches('[data-answer]')) return;
    const slot = Number(section.dataset.slot);
    const seq = (seqs.get(slot) || 0) + 1;
    setSeq(slot, seq);
    pending[slot] = { seq, values: valuesOf(section, slot) };
    store(pending);
    schedule(delay);
  }

  form.addEventListener('input', (event) => changed(event, 600));
  form.addEventListener('change', (event) => changed(event, 0));
  window.addEventListener('online', () => schedule(0));
  window.addEventListener('beforeunload', () => {
    leaving = true;
  });
  window.addEventListener('pageshow', () => {
    leaving = false;
  });

  // A page button while the connection is down would lose the page: stay, keep trying.
  form.addEventListener('submit', (event) => {
    if (offline && Object.keys(pending).length) {
      event.preventDefault();
      setOffline(true);
      schedule(0);
    }
  });

  // Files of an essay: a chosen file is sent at once; «Remove» too. A file that could not be sent stays chosen
  // in its field and goes with the page's next button (the plain form carries it).
  async function sendFiles(box, url, body) {
    const error = box.querySelector('[data-files-error]');
    const input = box.querySelector('input[type="file"]');
    say(form.dataset.savingText);
    try {
      const response = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-CSRFToken': csrf },
        body,
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 409 || response.status === 404) {
        shut(answer.error?.message);
        return;
      }
      if (!response.ok) {
        if (error) {
          error.textContent = answer.error?.message || form.dataset.fileFailedText;
          error.hidden = false;
        }
        if (input) input.setAttribute('aria-invalid', 'true');
        say('');
        return;
      }
      box.querySelector('[data-files-list]').outerHTML = answer.html;
      if (error) error.hidden = true;
      if (input) {
        input.value = '';
        input.removeAttribute('aria-invalid');
      }
      say(answer.message || form.dataset.savedText);
    } catch {
      if (error) {
        error.textContent = form.dataset.fileFailedText;
        error.hidden = false;
      }
      say('');
    }
  }

  function upload(box) {
    const input = box.querySelector('input[type="file"]');
    if (!input || !input.files.length || closed) return;
    const body = new FormData();
    body.append('slot', box.dataset.filesSlot);
    for (const file of input.files) body.append(input.name, file);
    sendFiles(box, box.dataset.uploadUrl, body);
  }

  form.addEventListener('change', (event) => {
    const box = event.target.closest('[data-files]');
    if (box && event.target.type === 'file') upload(box);
  });
  form.addEventListener('click', (event) => {
    const button = event.target.closest('[data-remove-file], [data-attach]');
    const box = button?.closest('[data-files]');
    if (!box) return;
    event.preventDefault();
    if (button.matches('[data-attach]')) upload(box);
    else sendFiles(box, button.dataset.url, new FormData());
  });

  if (Object.keys(pending).length) schedule(0);
  if (timerBox) {
    timer.start(Number(timerBox.dataset.secondsLeft), async () => {
      await flush();
      window.location.assign(form.dataset.summaryUrl);
    });
  }
}
