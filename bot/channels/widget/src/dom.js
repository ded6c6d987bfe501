// Tiny DOM helpers. Text always goes in as text nodes: nothing here parses HTML.

export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k === 'on') for (const ev in v) e.addEventListener(ev, v[ev]);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat()) if (c != null && c !== false && c !== '') e.append(c);
  return e;
}

const NS = 'http://www.w3.org/2000/svg';

// Stroke icons, 24x24.
export const ICONS = {
  chat: 'M4 5.5A1.5 1.5 0 0 1 5.5 4h13A1.5 1.5 0 0 1 20 5.5v9a1.5 1.5 0 0 1-1.5 1.5H10l-5 4v-4.2A1.5 1.5 0 0 1 4 14.5z',
  close: 'M6 6l12 12M18 6L6 18',
  restart: 'M4.5 12a7.5 7.5 0 1 0 2.2-5.3M4.5 3.5v4h4',
  send: 'M5 12h13M12 5l7 7-7 7',
  check: 'M5 12.5l4.5 4.5L19 7.5',
};

export function icon(name) {
  const s = document.createElementNS(NS, 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  const p = document.createElementNS(NS, 'path');
  p.setAttribute('d', ICONS[name]);
  s.append(p);
  return s;
}

const LINK = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)/g;

// Text with web and e-mail addresses as links; the rest stays plain text.
export function linkify(text) {
  const out = [];
  let last = 0;
  String(text).replace(LINK, (m, _g, at) => {
    out.push(text.slice(last, at));
    const mail = !/^https?:/.test(m);
    out.push(
      h('a', { href: (mail ? 'mailto:' : '') + m, target: mail ? null : '_blank', rel: 'noopener noreferrer' }, m),
    );
    last = at + m.length;
    return m;
  });
  out.push(text.slice(last));
  return out;
}
