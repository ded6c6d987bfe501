// Posts to the Rasa REST endpoint, one message at a time, retrying lost connections.
// A retried message keeps its message_id, so the server can drop a duplicate.

const DELAYS = [1000, 2000, 4000, 8000];
const TIMEOUT = 20000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function createTransport(url, hooks) {
  let chain = Promise.resolve();

  async function attempt(body, n) {
    let status = 0;
    try {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), TIMEOUT);
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
        signal: ctl.signal,
      }).finally(() => clearTimeout(timer));
      status = r.status;
      if (r.ok) {
        const data = await r.json();
        hooks.online();
        return Array.isArray(data) ? data : [];
      }
    } catch (e) {
      /* network error, CORS refusal or timeout: retried below */
    }
    if (status && status < 500 && status !== 408 && status !== 429) throw { status };
    if (n >= DELAYS.length) throw { status, retry: true };
    hooks.waiting();
    await sleep(DELAYS[n]);
    return attempt(body, n + 1);
  }

  return {
    send(body) {
      const run = () => attempt(body, 0);
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    },
  };
}
