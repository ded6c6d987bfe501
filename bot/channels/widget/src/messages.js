// Server messages (Rasa REST format plus our `custom` fields) in one shape for rendering.
// Anything unexpected is dropped or shown as plain text, never as markup.

const str = (v) => (v == null ? '' : String(v));
const safeUrl = (u) => (/^https?:\/\//i.test(str(u)) ? str(u) : '');

function button(b) {
  return b && b.payload != null
    ? { title: str(b.title || b.payload), payload: str(b.payload), description: str(b.description), selected: !!b.selected }
    : null;
}

const buttons = (list) => (Array.isArray(list) ? list.map(button).filter(Boolean) : []);

export function normalize(m) {
  if (!m || typeof m !== 'object') return null;
  const c = m.custom && typeof m.custom === 'object' ? m.custom : {};
  if (c.card || c.result) {
    const card = c.card || {};
    return {
      k: 'card',
      title: str(card.title),
      subtitle: str(card.subtitle),
      text: str(card.text != null ? card.text : m.text),
      buttons: buttons(card.buttons || m.buttons),
      image: safeUrl(card.image_url || m.image),
      result: c.result || null,
      reasons: c.recommendation && Array.isArray(c.recommendation.reasons) ? c.recommendation.reasons.map(str) : null,
    };
  }
  if ((m.buttons && m.buttons.length) || c.quiz || c.nav) {
    // `buttons` lists the options, then the done button, then nav; `custom` tells them apart.
    const quiz = c.quiz && typeof c.quiz === 'object' ? c.quiz : null;
    const done = button(c.done);
    const nav = buttons(c.nav);
    const extra = new Set(nav.concat(done || []).map((b) => b.payload));
    const selected = new Set(Array.isArray(c.selected) ? c.selected.map(str) : []);
    const described = {};
    buttons(c.options).forEach((o) => (described[o.payload] = o));
    return {
      k: 'buttons',
      text: str(m.text),
      buttons: buttons(m.buttons)
        .filter((b) => !extra.has(b.payload))
        .map((b) => {
          const d = described[b.payload];
          const on = selected.has(b.payload) || b.selected;
          return {
            title: d ? d.title : on ? b.title.replace(/^\u2713 /, '') : b.title,
            payload: b.payload,
            description: d ? d.description : b.description,
            selected: on,
          };
        }),
      quiz,
      multi: !!(c.multi || (quiz && quiz.kind === 'multi')),
      done,
      nav,
      location: !!c.allow_location,
    };
  }
  if (m.image && safeUrl(m.image)) return { k: 'image', url: safeUrl(m.image), alt: str(c.alt || m.text) };
  if (m.text != null && str(m.text).trim()) return { k: 'text', text: str(m.text) };
  return null;
}
