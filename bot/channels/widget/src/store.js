// The conversation kept in localStorage, so a reload (or a new tab) continues it.
// Falls back to memory where storage is blocked.

const MAX_LOG = 80;
const MAX_AGE = 30 * 864e5; // a month of silence starts a new conversation

export function newId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function createStore(key) {
  let data = null;
  try {
    data = key && JSON.parse(localStorage.getItem(key));
  } catch (e) {
    data = null;
  }
  if (!data || !data.sender || !(Date.now() - (data.t || 0) < MAX_AGE)) {
    data = { sender: 'web-' + newId(), log: [], teaser: data && data.teaser };
  }
  return {
    data,
    save() {
      data.t = Date.now();
      if (data.log.length > MAX_LOG) data.log.splice(0, data.log.length - MAX_LOG);
      try {
        if (key) localStorage.setItem(key, JSON.stringify(data));
      } catch (e) {
        /* storage full or blocked: the conversation still works for this page */
      }
    },
  };
}
