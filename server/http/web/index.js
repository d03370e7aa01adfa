// The sessions page: every session on the server, each linking to its
// labelling page. Refreshes every few seconds.
import { api, enumName, fmt, num, el, setText } from '/static/common.js';

const REFRESH_MS = 4000;
const MAX_PAGES = 50;

async function listSessions() {
  const sessions = [];
  let token = '';
  for (let page = 0; page < MAX_PAGES; ++page) {
    const query = token ? `?pageSize=1000&pageToken=${encodeURIComponent(token)}` : '?pageSize=1000';
    const r = await api(`/v1/sessions${query}`);
    sessions.push(...(r.sessions ?? []));
    token = r.nextPageToken ?? '';
    if (!token) break;
  }
  return sessions;
}

function render(sessions) {
  const body = document.getElementById('sessions-body');
  const rows = sessions.map((s) => {
    const id = s.sessionId ?? '';
    const link = el('a', { text: id, attrs: { href: `/sessions/${encodeURIComponent(id)}` } });
    const state = enumName(s.trainingState, 'TRAINING_STATE_');
    return el('tr', { attrs: { 'data-session-id': id } }, [
      el('td', {}, [link]),
      el('td', { cls: 'num', text: fmt(num(s.rows)) }),
      el('td', { cls: 'num', text: fmt(num(s.labels)) }),
      el('td', { cls: 'num', text: fmt(num(s.anomalies)) }),
      el('td', { cls: 'num', text: String(num(s.modelVersion)) }),
      el('td', {}, [el('span', { cls: `state state-${state}`, text: state })]),
    ]);
  });
  body.replaceChildren(...rows);
  document.getElementById('sessions-empty').hidden = sessions.length > 0;
  document.getElementById('sessions').hidden = sessions.length === 0;
}

async function refresh() {
  try {
    render(await listSessions());
    setText('status', '');
    document.body.dataset.state = 'ready';
  } catch (e) {
    setText('status', `Could not list the sessions: ${e.message}`);
    document.body.dataset.state = 'error';
  }
}

async function loop() {
  for (;;) {
    await refresh();
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

loop();
