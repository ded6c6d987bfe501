// Vrijwilligerskracht chat widget: one <script> tag, a shadow root, one global namespace.
// Every text from the server or the page is inserted as text, never as HTML.

import { STRINGS, LANGS } from './strings.js';
import { h, icon, linkify } from './dom.js';
import { palette } from './colour.js';
import { createStore, newId } from './store.js';
import { createTransport } from './transport.js';
import { normalize } from './messages.js';

/* global __CSS__ */
const NS = 'Vrijwilligerskracht';
const TYPED = /^(place|number|text)$/;

const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] == null ? '' : vars[k]));

function pickLang(value) {
  if (value === 'auto') {
    const found = (navigator.languages || []).map((l) => l.slice(0, 2)).find((l) => LANGS.includes(l));
    return found || 'nl';
  }
  return LANGS.includes(value) ? value : 'nl';
}

function styleRoot(root) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(__CSS__);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    root.append(h('style', {}, __CSS__));
  }
}

export function mount(o = {}) {
  const inline = !!o.target;
  const target = typeof o.target === 'string' ? document.querySelector(o.target) : o.target;
  if (inline && !target) {
    console.warn(NS + ': element not found: ' + o.target);
    return null;
  }
  const server = String(o.server || location.origin).replace(/\/+$/, '');
  const org = o.org ? String(o.org).slice(0, 100) : undefined;
  const campaign = o.campaign ? String(o.campaign).slice(0, 100) : undefined;
  const quiz = o.quiz ? String(o.quiz).slice(0, 64) : undefined;
  const preview = Array.isArray(o.preview) ? o.preview : null;
  const store = createStore(preview ? '' : 'vk:' + (org || '-'));
  const S = store.data;
  let lang = pickLang(S.lang || o.lang);
  let t = STRINGS[lang];
  let active = null; // the message whose choices are shown
  let engaged = false; // only after the person used the widget may it move focus
  let started = S.log.length > 0;
  let pending = 0;
  let retryLast = null;
  let seq = 0;

  const col = palette(o.accent);
  const host = h('div', { 'data-vrijwilligerskracht': '' });
  const root = host.attachShadow({ mode: 'open' });
  styleRoot(root);

  // ---------------------------------------------------------------- structure
  const title = h('h2', { id: 'vk-title', tabindex: '-1' });
  const langBtn = h('button', { type: 'button', class: 'hb lang', on: { click: switchLang } });
  const restartBtn = h('button', { type: 'button', class: 'hb', on: { click: restart } }, icon('restart'));
  const closeBtn = inline ? null : h('button', { type: 'button', class: 'hb', on: { click: () => close(true) } }, icon('close'));
  const ptext = h('span', { id: 'vk-ptext' });
  const pfill = h('span', { class: 'pfill' });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-labelledby': 'vk-ptext' }, pfill);
  const progress = h('div', { class: 'progress', hidden: true }, ptext, bar);
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const typing = h('div', { class: 'typing', hidden: true, 'aria-hidden': 'true' }, h('span'), h('span'), h('span'));
  const choices = h('div', { class: 'choices', role: 'group', hidden: true });
  const scroller = h('div', { class: 'scroll', tabindex: '0' }, log, typing, choices);
  const status = h('div', { class: 'status', role: 'status' });
  const input = h('input', { id: 'vk-in', type: 'text', autocomplete: 'off', maxlength: 500, enterkeyhint: 'send' });
  const inputLabel = h('label', { for: 'vk-in', class: 'sr' });
  const sendBtn = h('button', { type: 'submit', class: 'send' }, icon('send'));
  const form = h('form', { class: 'compose', on: { submit: onSubmit } }, inputLabel, input, sendBtn);
  const panel = h(
    'section',
    { class: 'panel', id: 'vk-panel', 'aria-labelledby': 'vk-title', role: inline ? null : 'dialog', hidden: !inline },
    h('div', { class: 'head' }, title, h('div', { class: 'tools' }, langBtn, restartBtn, closeBtn)),
    progress,
    scroller,
    status,
    form,
  );
  const wrap = h('div', { class: 'vk ' + (inline ? 'inline' : 'bubble') + (o.position === 'left' ? ' left' : '') });
  wrap.style.setProperty('--accent', col.accent);
  wrap.style.setProperty('--on', col.on);
  wrap.style.setProperty('--ink', col.ink);
  if (inline && /^\d{3,4}$/.test(String(o.height || ''))) wrap.style.setProperty('--h', o.height + 'px');

  let launcher = null;
  let teaser = null;
  if (!inline) {
    launcher = h(
      'button',
      { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'vk-panel', on: { click: () => (panel.hidden ? open() : close(true)) } },
      icon('chat'),
      icon('close'),
    );
    if (o.teaser && !S.teaser) {
      teaser = h(
        'div',
        { class: 'teaser', hidden: true },
        h('button', { type: 'button', class: 'tmsg', on: { click: open } }, String(o.teaser).slice(0, 200)),
        h('button', { type: 'button', class: 'tx', on: { click: dismissTeaser } }, icon('close')),
      );
      const delay = Math.min(Math.max(+o.teaserDelay || 3000, 0), 60000);
      setTimeout(() => teaser && panel.hidden && (teaser.hidden = false), delay);
    }
    wrap.append(panel, teaser || '', launcher);
  } else {
    wrap.append(panel);
  }
  root.append(wrap);
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !inline) {
      e.stopPropagation();
      close(true);
    }
  });

  function labels() {
    t = STRINGS[lang];
    wrap.lang = lang;
    title.textContent = o.title ? String(o.title).slice(0, 80) : t.title;
    const other = LANGS.find((l) => l !== lang);
    // Short visible code; the full language name for screen readers (the name contains the code).
    langBtn.textContent = '';
    langBtn.append(other.toUpperCase(), h('span', { class: 'sr' }, ' ' + t.other));
    langBtn.lang = other;
    langBtn.title = t.otherLabel;
    restartBtn.setAttribute('aria-label', t.restart);
    restartBtn.title = t.restart;
    if (closeBtn) closeBtn.setAttribute('aria-label', t.close);
    if (launcher) launcher.setAttribute('aria-label', panel.hidden ? t.open + ': ' + title.textContent : t.close);
    if (teaser) teaser.lastChild.setAttribute('aria-label', t.teaserClose);
    inputLabel.textContent = t.input;
    sendBtn.setAttribute('aria-label', t.send);
    placeholder();
    setProgress(active && active.quiz);
  }

  // ---------------------------------------------------------------- rendering
  function bubble(text, who) {
    return h(
      'div',
      { class: 'msg ' + who, id: 'vk-m' + ++seq },
      who === 'me' ? [h('span', { class: 'sr' }, t.you + ' '), text] : linkify(text),
    );
  }

  function paragraphs(text) {
    return text
      .split(/\n{2,}/)
      .filter((p) => p.trim())
      .map((p) => {
        const m = /^([^:.?!\n]{2,40}):\s([\s\S]+)$/.exec(p);
        return m ? h('p', {}, h('strong', {}, m[1] + ':'), ' ' + m[2]) : h('p', {}, linkify(p));
      });
  }

  function card(m) {
    const buttons = m.buttons.length
      ? h('div', { class: 'cbtns' }, m.buttons.map((b) => h('button', { type: 'button', class: 'cb', on: { click: () => choose(b) } }, b.title)))
      : null;
    // The profile's card; the vacancies that follow later carry `result` without a profile.
    if (m.result && 'profile' in m.result) {
      const p = m.result.profile || {};
      return h(
        'article',
        { class: 'card result' },
        h(
          'div',
          { class: 'rhead' },
          p.emoji ? h('span', { class: 'emoji', 'aria-hidden': 'true' }, String(p.emoji)) : null,
          h('h3', { tabindex: '-1' }, m.title),
          m.subtitle ? h('p', { class: 'tag' }, m.subtitle) : null,
        ),
        h('div', { class: 'rbody' }, paragraphs(m.text), buttons),
      );
    }
    // A vacancy's reasons ("2 km van je · zaterdag") read better as a list.
    let body = paragraphs(m.text);
    const lines = m.text.split('\n');
    if (m.reasons && m.reasons.length && lines[0] === m.reasons.join(' · ')) {
      body = [h('ul', { class: 'why' }, m.reasons.map((r) => h('li', {}, r)))].concat(paragraphs(lines.slice(1).join('\n')));
    }
    return h(
      'article',
      { class: 'card' },
      m.image ? h('img', { src: m.image, alt: '' }) : null,
      // The vacancies' heading takes focus when they arrive, so it is read out first.
      m.title ? h('h3', m.result ? { tabindex: '-1' } : {}, m.title) : null,
      m.subtitle ? h('p', { class: 'sub' }, m.subtitle) : null,
      body,
      buttons,
    );
  }

  // "Deel je kracht": a result card can be saved (the server sends it as an attachment).
  function saveLink(url) {
    if (!/\/cards\/[^/?#]+\.png/.test(url)) return null;
    const href = url + (url.includes('?') ? '&' : '?') + 'download=1';
    return h('p', {}, h('a', { href, download: '', target: '_blank', rel: 'noopener' }, t.download));
  }

  // Adds one bot message to the log; returns its node.
  function renderBot(m) {
    let node = null;
    if (m.k === 'text') node = bubble(m.text, 'bot');
    else if (m.k === 'image') node = h('div', { class: 'msg bot' }, h('img', { src: m.url, alt: m.alt }), saveLink(m.url));
    else if (m.k === 'card') node = card(m);
    else if (m.k === 'buttons' && m.text) node = bubble(m.text, 'bot');
    if (node) log.append(node);
    if (m.k === 'buttons') showChoices(m, node);
    if (m.result) setProgress(null);
    return node;
  }

  function showChoices(m, labelNode) {
    active = m;
    choices.textContent = '';
    choices.hidden = !m;
    placeholder();
    choices.setAttribute('data-kind', (m && m.quiz && m.quiz.kind) || '');
    if (!m) return;
    setProgress(m.quiz);
    if (labelNode) choices.setAttribute('aria-labelledby', labelNode.id);
    else choices.removeAttribute('aria-labelledby');
    if (m.buttons.length) {
      choices.append(
        h(
          'div',
          { class: 'opts' + (m.multi ? ' multi' : '') },
          m.buttons.map((b) =>
            h(
              'button',
              {
                type: 'button',
                class: 'opt',
                'aria-pressed': m.multi ? String(!!b.selected) : null,
                on: { click: (e) => (m.multi ? toggle(b, e.currentTarget) : choose(b, true)) },
              },
              m.multi ? h('span', { class: 'box' }, icon('check')) : null,
              h('span', {}, b.title, b.description ? h('span', { class: 'od' }, b.description) : null),
            ),
          ),
        ),
      );
    }
    if (m.done) choices.append(h('button', { type: 'button', class: 'done', on: { click: () => finishMulti(m) } }, m.done.title));
    const nav = m.nav.map((b) => h('button', { type: 'button', class: 'link', on: { click: () => choose(b, true) } }, b.title));
    if (m.location && navigator.geolocation && window.isSecureContext) {
      nav.unshift(h('button', { type: 'button', class: 'link', on: { click: locate } }, t.location));
    }
    if (nav.length) choices.append(h('div', { class: 'nav' }, nav));
  }

  function placeholder() {
    input.placeholder = active && active.quiz && active.quiz.kind === 'place' ? t.inputPlace : t.input + '…';
  }

  function setProgress(q) {
    progress.hidden = !q;
    if (!q) return;
    const step = Math.max(0, +q.step || 0);
    const total = Math.max(step, +q.total || 0);
    ptext.textContent = fill(t.progress, { step, total });
    bar.setAttribute('aria-valuemax', total);
    bar.setAttribute('aria-valuenow', step);
    pfill.style.width = (total ? Math.round((step / total) * 100) : 0) + '%';
  }

  // Scrolls so the first new message is in view, and the focused control too.
  function reveal(first, focused) {
    const top = (el) => el.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    const max = scroller.scrollHeight - scroller.clientHeight;
    let y = first ? Math.min(top(first) - 12, max) : max;
    if (focused && scroller.contains(focused)) y = Math.max(y, top(focused) + focused.offsetHeight + 12 - scroller.clientHeight);
    scroller.scrollTo ? scroller.scrollTo({ top: y }) : (scroller.scrollTop = y);
  }

  function restore() {
    for (const e of S.log) {
      if (e.u != null) log.append(bubble(e.u, 'me'));
      else if (e.b) renderBot(e.b);
    }
    if (active && active.spent) showChoices(null);
    // Messages that got no answer before the page went away are sent again (same id).
    const unsent = S.pend || [];
    S.pend = [];
    unsent.forEach((body) => post(body));
  }

  // ---------------------------------------------------------------- talking
  function say(text) {
    const node = bubble(text, 'me');
    log.append(node);
    S.log.push({ u: text });
    store.save();
    reveal(node);
  }

  function send(text, extra) {
    started = true;
    if (preview) return;
    post({ sender: S.sender, message: text, metadata: meta(extra) });
  }

  function meta(extra) {
    return Object.assign(
      { org, campaign, quiz, channel: 'widget', message_id: newId().slice(0, 20) },
      extra,
    );
  }

  // Shares the device's position, rounded to about 100 m: enough to find work nearby.
  function locate() {
    if (active.spent) return;
    engaged = true;
    navigator.geolocation.getCurrentPosition(
      (p) => {
        const r = (v) => Math.round(v * 1000) / 1000;
        spend();
        say(t.myLocation);
        post({ sender: S.sender, metadata: meta({ location: { lat: r(p.coords.latitude), lon: r(p.coords.longitude) } }) });
      },
      () => {
        setStatus(t.noLocation);
        input.focus();
      },
      { timeout: 15000, maximumAge: 600000 },
    );
  }

  function post(body) {
    S.pend = (S.pend || []).concat([body]);
    store.save();
    const done = () => {
      S.pend = S.pend.filter((b) => b !== body);
      store.save();
    };
    const run = () => {
      pending++;
      typing.hidden = false;
      retryLast = null;
      transport.send(body).then(
        (msgs) => {
          pending--;
          typing.hidden = !pending;
          setStatus('');
          done();
          handle(msgs, body.message);
          // Nothing to answer (e.g. a duplicate after a reload): show where we are.
          if (!pending && (!active || active.spent) && !msgs.length) send('/resume');
        },
        (err) => {
          pending--;
          typing.hidden = !pending;
          if (!err.retry) done();
          failed(err, () => {
            setStatus('');
            run();
          });
        },
      );
    };
    run();
  }

  function setStatus(text, retry) {
    status.textContent = text;
    if (retry) status.append(' ', h('button', { type: 'button', class: 'link', on: { click: retry } }, t.retry));
  }

  function failed(err, retry) {
    if (err && err.retry) {
      retryLast = retry;
      setStatus(t.failed, () => {
        retryLast = null;
        retry();
      });
    } else setStatus(err && err.status === 403 ? t.forbidden : t.failed);
  }

  const transport = createTransport(server + '/webhooks/rest/webhook', {
    waiting: () => setStatus(t.retrying),
    online: () => setStatus(''),
  });
  const onOnline = () => retryLast && retryLast();
  window.addEventListener('online', onOnline);

  function handle(raw, sent) {
    // The server erased this person's data: drop the local transcript and the sender id
    // too; only the confirmation is shown, and it is not stored.
    const erased = raw.some((m) => m && m.custom && m.custom.erased);
    // A test without consent ends like this too: the profile shown earlier stays on screen,
    // but nothing is kept in the browser.
    const forgotten = erased && raw.some((m) => m && m.custom && m.custom.forgotten);
    if (erased) {
      S.sender = 'web-' + newId();
      S.pend = [];
      if (forgotten) {
        S.log = [];
        store.save();
      } else clear();
    }
    const ms = raw.map(normalize).filter(Boolean);
    const q = active && active.multi && active.quiz && active.quiz.question_id;
    if (q && String(sent).indexOf('/a/' + q + '/') === 0 && ms.length === 1 && ms[0].quiz && ms[0].quiz.question_id === q) {
      // A toggle in a multi-select question: keep the question, sync what is selected.
      if (!pending) {
        const sel = new Set(ms[0].buttons.filter((b) => b.selected).map((b) => b.payload));
        const nodes = choices.querySelectorAll('.opt');
        active.buttons.forEach((b, i) => {
          b.selected = sel.has(b.payload);
          if (nodes[i]) nodes[i].setAttribute('aria-pressed', String(b.selected));
        });
        store.save();
      }
      return;
    }
    let first = null;
    let focus = null;
    let result = null;
    let asked = false;
    for (const m of ms) {
      if (!erased) S.log.push({ b: m });
      const node = renderBot(m);
      first = first || node;
      if (m.result && node) result = result || node.querySelector('h3');
      if (m.k === 'card' && node) focus = focus || node.querySelector('button');
      if (m.k === 'buttons') asked = true;
    }
    store.save();
    if (!engaged) return reveal(first);
    // Focus goes to the first new button (a card's, else the new choices); the result
    // gets its heading focused so it is read from the top.
    if (result) focus = result;
    else if (!focus && asked && active) focus = active.quiz && TYPED.test(active.quiz.kind) ? input : choices.querySelector('button');
    if (!focus && !root.activeElement) focus = input;
    if (focus) focus.focus({ preventScroll: true });
    reveal(first, focus);
  }

  function spend() {
    if (active) active.spent = true;
    choices.querySelectorAll('button').forEach((b) => b.setAttribute('aria-disabled', 'true'));
  }

  function choose(b, fromChoices) {
    if (fromChoices && active && active.spent) return;
    engaged = true;
    if (fromChoices) spend();
    say(b.title);
    send(b.payload);
  }

  function toggle(b, btn) {
    if (active.spent) return;
    engaged = true;
    b.selected = !b.selected;
    btn.setAttribute('aria-pressed', String(b.selected));
    store.save();
    send(b.payload);
  }

  function finishMulti(m) {
    if (m.spent) return;
    const picked = m.buttons.filter((b) => b.selected).map((b) => b.title);
    choose({ title: picked.length ? picked.join(', ') : m.done.title, payload: m.done.payload }, true);
  }

  function onSubmit(e) {
    e.preventDefault();
    const text = input.value.trim().slice(0, 500);
    if (!text) return input.focus();
    engaged = true;
    input.value = '';
    say(text);
    send(text);
  }

  function start() {
    if (started) return;
    send('/start', { lang, start: true });
  }

  function clear() {
    S.log = [];
    log.textContent = '';
    showChoices(null);
    setProgress(null);
    store.save();
  }

  function restart() {
    engaged = true;
    clear();
    send('/restart', { lang });
  }

  function switchLang() {
    engaged = true;
    lang = LANGS.find((l) => l !== lang);
    S.lang = lang;
    store.save();
    labels();
    if (started) send('/lang/' + lang, { lang });
  }

  // ---------------------------------------------------------------- bubble
  function dismissTeaser() {
    if (!teaser) return;
    teaser.remove();
    teaser = null;
    S.teaser = 1;
    store.save();
    if (root.activeElement == null && panel.hidden) launcher.focus();
  }

  function open() {
    if (inline) return;
    engaged = true;
    panel.hidden = false;
    wrap.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    dismissTeaser();
    labels();
    start();
    const f = choices.querySelector('button:not([aria-disabled])') || title;
    f.focus({ preventScroll: true });
    scroller.scrollTop = scroller.scrollHeight;
  }

  function close(returnFocus) {
    if (inline || panel.hidden) return;
    panel.hidden = true;
    wrap.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    labels();
    if (returnFocus) launcher.focus();
  }

  // ---------------------------------------------------------------- go
  labels();
  if (preview) preview.forEach((m) => (m && m.user ? log.append(bubble(String(m.user), 'me')) : (m = normalize(m)) && renderBot(m)));
  else restore();
  (inline ? target : document.body).append(host);
  if (inline && !preview) start();
  if (o.open && !inline) open();

  return {
    open,
    close: () => close(false),
    restart,
    destroy() {
      window.removeEventListener('online', onOnline);
      host.remove();
    },
  };
}

function fromScript(s) {
  const d = s.dataset;
  return {
    server: d.server || new URL(s.src, location.href).origin,
    org: d.org,
    lang: d.lang,
    campaign: d.campaign,
    quiz: d.quiz,
    accent: d.accent,
    title: d.title,
    teaser: d.teaser,
    teaserDelay: d.teaserDelay,
    position: d.position,
    target: d.target,
    height: d.height,
    open: d.open === 'true',
  };
}

// The one global: mount() for pages that place widgets themselves, open() for a page's own
// "start the test" button.
const api =
  window[NS] ||
  (window[NS] = {
    mount,
    widgets: [],
    open() {
      const w = this.widgets[0];
      if (w) w.open();
    },
  });
const script = document.currentScript;
if (script && script.src && !('manual' in script.dataset)) {
  const go = () => api.widgets.push(api.mount(fromScript(script)));
  if (document.body) go();
  else document.addEventListener('DOMContentLoaded', go);
}
