// The labelling page of one session (/sessions/{id}): the next candidates
// with their explanations, the expert's verdicts (a / n / s, undo with u or
// ctrl+z), and the progress with the discovery curve. Nothing is kept on
// the server for the page: it reads and writes the session through the same
// JSON API as any client, so aadctl and the page see each other's labels.
import {
  api, ApiError, enumName, fmt, signed, percent, num, el, setText, onReconnect,
} from '/static/common.js';

const K = 5;             // candidates fetched at a time (the first is shown large)
const EXPLAIN_TOP = 5;   // features named in each explanation
const HEARTBEAT_MS = 3000;
const MODEL_WAIT_MS = 300000;  // a verdict's answer waits for the fine-tuned model
const SVG_NS = 'http://www.w3.org/2000/svg';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const base = `/v1/sessions/${encodeURIComponent(sessionId)}`;

const state = {
  info: null,              // SessionInfo of the last refresh
  names: [],               // feature names
  queue: [],               // candidates not yet judged, best first
  queueVersion: 0,         // the model version that ranked the queue
  skipped: new Set(),      // row ids skipped on this page (never sent)
  undo: [],                // verdicts given on this page: {rowId, anomaly}
  curve: [],               // discovery curve: {labels, anomalies}, from the page's start
  start: null,             // the session's counts when the page opened
  busy: false,
  loaded: false,
};

// ---------------------------------------------------------------- data

function featureName(i) {
  const n = state.names[i];
  return n ? n : `f${i}`;
}

function parseCandidates(r) {
  const ids = (r.rowIds ?? []).map(String);
  const fc = num(r.featureCount);
  const values = r.values ?? [];
  return ids.map((rowId, i) => ({
    rowId,
    p: Number(r.p?.[i] ?? 0),
    s: Number(r.s?.[i] ?? 0),
    values: values.slice(i * fc, (i + 1) * fc).map(Number),
    explanation: r.explanations?.[i] ?? null,
  }));
}

// Appends the session's counts to the discovery curve. A count that went
// down (an undo, here or elsewhere) takes the later points back.
function notePoint(labels, anomalies) {
  const c = state.curve;
  const same = (p) => p.labels === labels && p.anomalies === anomalies;
  while (c.length > 1 && c.at(-1).labels >= labels && !same(c.at(-1))) c.pop();
  if (c.length === 1 && !same(c[0]) && c[0].labels >= labels) c.pop();
  if (!c.length || !same(c.at(-1))) c.push({ labels, anomalies });
}

function adoptInfo(info) {
  state.info = info;
  if ((info.featureNames ?? []).length) state.names = info.featureNames;
  const labels = num(info.labels);
  const anomalies = num(info.anomalies);
  if (!state.start) state.start = { labels, anomalies };
  notePoint(labels, anomalies);
}

async function loadSession() {
  const r = await api(base);
  adoptInfo(r.session ?? {});
}

async function loadCandidates() {
  if (num(state.info?.modelVersion) === 0) {
    state.queue = [];
    state.queueVersion = 0;
    return;
  }
  const k = Math.min(10000, K + state.skipped.size);
  const r = await api(`${base}/candidates?k=${k}&explainTop=${EXPLAIN_TOP}`);
  if ((r.featureNames ?? []).length) state.names = r.featureNames;
  state.queue = parseCandidates(r).filter((c) => !state.skipped.has(c.rowId)).slice(0, K);
  state.queueVersion = num(r.modelVersion);
}

async function refresh() {
  await loadSession();
  await loadCandidates();
  state.loaded = true;
  render();
}

// ---------------------------------------------------------------- actions

function say(text) {
  setText('status', text);
  const err = document.getElementById('error');
  err.hidden = true;
  err.textContent = '';
}

function sayError(what, e) {
  const err = document.getElementById('error');
  err.textContent = `${what}: ${e instanceof ApiError ? e.message : String(e)}`;
  err.hidden = false;
}

async function busy(label, fn) {
  if (state.busy) return;
  state.busy = true;
  document.body.dataset.state = 'busy';
  say(label);
  renderButtons();
  try {
    await fn();
  } finally {
    state.busy = false;
    renderState();
    renderButtons();
  }
}

function verdict(anomaly) {
  const c = state.queue[0];
  if (!c || state.busy) return;
  const word = anomaly ? 'anomaly' : 'nominal';
  return busy(`Saving row ${c.rowId} as ${word}; waiting for the updated model…`, async () => {
    try {
      const r = await api(`${base}/labels`, {
        method: 'POST',
        body: { labels: [{ rowId: c.rowId, anomaly }], waitForModel: true },
        timeoutMs: MODEL_WAIT_MS,
      });
      state.undo.push({ rowId: c.rowId, anomaly });
      state.queue = state.queue.filter((q) => q.rowId !== c.rowId);
      render();
      await refresh();
      say(`Row ${c.rowId} labelled ${word}. Model version ${num(r.modelVersion)} ranked the next candidates.`);
    } catch (e) {
      sayError(`Row ${c.rowId} was not labelled`, e);
    }
  });
}

function skip() {
  const c = state.queue[0];
  if (!c || state.busy) return;
  state.skipped.add(c.rowId);
  state.queue.shift();
  say(`Skipped row ${c.rowId} (not sent to the server; it stays unlabelled).`);
  if (state.queue.length === 0) {
    busy('Fetching more candidates…', async () => {
      try {
        await loadCandidates();
        render();
      } catch (e) {
        sayError('Could not fetch candidates', e);
      }
    });
  } else {
    render();
  }
}

function undo() {
  const last = state.undo.at(-1);
  if (!last || state.busy) return;
  return busy(`Taking back the verdict on row ${last.rowId}…`, async () => {
    try {
      await api(`${base}/labels`, {
        method: 'POST',
        body: { labels: [{ rowId: last.rowId, withdraw: true }], waitForModel: true },
        timeoutMs: MODEL_WAIT_MS,
      });
    } catch (e) {
      // A withdrawal repeated after a lost answer finds no label: it is done.
      if (!(e instanceof ApiError && e.status === 404 && /label/i.test(e.message))) {
        sayError(`Could not undo the verdict on row ${last.rowId}`, e);
        return;
      }
    }
    state.undo.pop();
    state.skipped.delete(last.rowId);
    try {
      await refresh();
      say(`Took back the verdict on row ${last.rowId}; it is unlabelled again.`);
    } catch (e) {
      sayError('Could not refresh', e);
    }
  });
}

function refreshNow() {
  return busy('Refreshing…', async () => {
    try {
      await refresh();
      say('');
    } catch (e) {
      sayError('Could not refresh', e);
    }
  });
}

function focusCandidate(rowId) {
  const i = state.queue.findIndex((q) => q.rowId === rowId);
  if (i <= 0 || state.busy) return;
  const [c] = state.queue.splice(i, 1);
  state.queue.unshift(c);
  render();
  document.getElementById('candidate-title').focus({ preventScroll: true });
}

function onKey(e) {
  if (e.repeat || e.altKey || e.metaKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  const key = e.key.toLowerCase();
  if (e.ctrlKey) {
    if (key === 'z') {
      e.preventDefault();
      undo();
    }
    return;
  }
  const actions = { a: () => verdict(true), n: () => verdict(false), s: skip, u: undo, r: refreshNow };
  if (actions[key]) {
    e.preventDefault();
    actions[key]();
  }
}

// ---------------------------------------------------------------- rendering

function renderState() {
  let s = 'ready';
  if (state.busy) s = 'busy';
  else if (!state.loaded) s = 'loading';
  else if (num(state.info?.modelVersion) === 0) s = 'no-model';
  else if (state.queue.length === 0) s = 'empty';
  document.body.dataset.state = s;
}

function renderButtons() {
  const has = state.queue.length > 0 && !state.busy;
  document.getElementById('btn-anomaly').disabled = !has;
  document.getElementById('btn-nominal').disabled = !has;
  document.getElementById('btn-skip').disabled = !has;
  const undoBtn = document.getElementById('btn-undo');
  undoBtn.disabled = state.busy || state.undo.length === 0;
  const last = state.undo.at(-1);
  undoBtn.title = last ? `Take back: row ${last.rowId} ${last.anomaly ? 'anomaly' : 'nominal'}` : 'Nothing to undo';
}

function renderProgress() {
  const info = state.info ?? {};
  setText('labels-count', String(num(info.labels)));
  setText('anomalies-count', String(num(info.anomalies)));
  setText('model-version', String(num(info.modelVersion)));
  setText('rows-count', fmt(num(info.rows)));
  const trainer = enumName(info.trainingState, 'TRAINING_STATE_');
  setText('training-state', info.lastTrainingError ? `${trainer} (last run: ${info.lastTrainingError})` : trainer);
  renderCurve();
  const newer = document.getElementById('newer-model');
  const v = num(info.modelVersion);
  newer.hidden = !(state.queueVersion > 0 && v > state.queueVersion && !state.busy);
  setText('newer-model-text', `Model version ${v} is newer than the one that ranked these candidates (${state.queueVersion}).`);
}

function renderCandidate() {
  const c = state.queue[0];
  const info = state.info ?? {};
  const empty = document.getElementById('candidate-empty');
  const body = document.getElementById('candidate-body');
  if (!c) {
    setText('candidate-row-id', '–');
    for (const id of ['candidate-p', 'candidate-s', 'candidate-model']) setText(id, '–');
    body.hidden = true;
    empty.hidden = false;
    if (!state.loaded) empty.textContent = 'Loading…';
    else if (num(info.modelVersion) === 0) {
      empty.textContent = num(info.rows) === 0
        ? `This session has no rows yet. Ingest some: aadctl ingest FILE.csv --session ${sessionId}`
        : `No model yet. Train one: aadctl train --session ${sessionId} (this page waits for it).`;
    } else if (state.skipped.size > 0) {
      empty.replaceChildren(
        `Every remaining candidate was skipped (${state.skipped.size}). `,
        el('button', { text: 'Show the skipped rows again', attrs: { type: 'button', id: 'btn-unskip' } }));
      document.getElementById('btn-unskip').addEventListener('click', () => {
        state.skipped.clear();
        refreshNow();
      });
    } else {
      empty.textContent = 'No unlabelled rows left: every row of the pool has a verdict.';
    }
    return;
  }
  empty.hidden = true;
  body.hidden = false;
  setText('candidate-row-id', c.rowId);
  setText('candidate-p', percent(c.p));
  setText('candidate-s', fmt(c.s));
  setText('candidate-model', `v${state.queueVersion}`);
  renderExplanation(c);
  renderValues(c);
}

function renderExplanation(c) {
  const box = document.getElementById('explanation');
  const x = c.explanation;
  if (!x || !(x.top ?? []).length) {
    box.replaceChildren(el('p', { cls: 'muted', text: 'This model gave no explanation for the row.' }));
    setText('explanation-sum', '');
    return;
  }
  const items = x.top.map((t) => ({
    name: t.name || featureName(num(t.feature)),
    value: Number(t.contribution ?? 0),
    kind: 'feature',
  }));
  items.push({ name: 'rest', value: Number(x.rest ?? 0), kind: 'rest',
               title: 'The other features, summed' });
  if (Math.abs(Number(x.unattributed ?? 0)) > 1e-6) {
    items.push({ name: 'unattributed', value: Number(x.unattributed), kind: 'rest',
                 title: "Parts of the score no single feature owns (the detector's latent code)" });
  }
  const scale = Math.max(1e-9, ...items.map((i) => Math.abs(i.value)));
  box.replaceChildren(...items.map((i) => {
    const bar = el('span', { cls: `bar ${i.value >= 0 ? 'pos' : 'neg'}` });
    const half = (Math.abs(i.value) / scale) * 50;
    bar.style.width = `${half}%`;
    bar.style.left = i.value >= 0 ? '50%' : `${50 - half}%`;
    const row = el('div', { cls: `bar-row ${i.kind}`, attrs: { role: 'listitem' } }, [
      el('span', { cls: 'bar-name', text: i.name }),
      el('span', { cls: 'bar-track', attrs: { 'aria-hidden': 'true' } }, [bar]),
      el('span', { cls: 'bar-value', text: signed(i.value, 2) }),
    ]);
    if (i.title) row.title = i.title;
    return row;
  }));
  const features = x.top.reduce((a, t) => a + Number(t.contribution ?? 0), 0) + Number(x.rest ?? 0);
  setText('explanation-sum',
    `Contributions to the row's logit; positive pushes towards anomaly. Logit ` +
    `${Number(x.logit ?? 0).toFixed(2).replace('-', '\u2212')} = ` +
    `${Number(x.base ?? 0).toFixed(2).replace('-', '\u2212')} for a typical row, ` +
    `${signed(features, 2)} from the features, ${signed(x.unattributed ?? 0, 2)} unattributed.`);
}

function renderValues(c) {
  const tbody = document.getElementById('values-body');
  const explained = (c.explanation?.top ?? []);
  const rows = explained.map((t) => {
    const f = num(t.feature);
    const value = Number(t.value ?? c.values[f]);
    const typical = Number(t.typical ?? 0);
    const spread = Number(t.spread ?? 0);
    const z = spread > 0 ? (value - typical) / spread : NaN;
    const zText = Number.isFinite(z) ? `${signed(z, 1)} σ` : '–';
    const typicalText = spread > 0 ? `${fmt(typical)} ± ${fmt(spread)}` : fmt(typical);
    return el('tr', { cls: Math.abs(z) >= 3 ? 'far' : '' }, [
      el('th', { text: t.name || featureName(f), attrs: { scope: 'row' } }),
      el('td', { cls: 'num', text: fmt(value) }),
      el('td', { cls: 'num', text: typicalText }),
      el('td', { cls: 'num', text: zText }),
    ]);
  });
  if (rows.length === 0) {
    // No explanation: the row's values alone.
    c.values.slice(0, 12).forEach((v, f) => rows.push(el('tr', {}, [
      el('th', { text: featureName(f), attrs: { scope: 'row' } }),
      el('td', { cls: 'num', text: fmt(v) }),
      el('td', { cls: 'num', text: '–' }),
      el('td', { cls: 'num', text: '–' }),
    ])));
  }
  tbody.replaceChildren(...rows);
  setText('all-values-summary', `All ${c.values.length} values of row ${c.rowId}`);
  document.getElementById('all-values-list').replaceChildren(...c.values.flatMap((v, f) => [
    el('dt', { text: featureName(f) }), el('dd', { text: fmt(v) }),
  ]));
}

function renderQueue() {
  const list = document.getElementById('queue');
  const items = state.queue.map((c, i) => {
    const top = c.explanation?.top?.[0];
    const why = top ? `${top.name || featureName(num(top.feature))} ${signed(top.contribution ?? 0, 2)}` : '';
    const btn = el('button', { cls: 'queue-item', attrs: { type: 'button', 'data-row-id': c.rowId } }, [
      el('span', { cls: 'queue-id', text: `Row ${c.rowId}` }),
      el('span', { cls: 'queue-p', text: `p ${percent(c.p)}` }),
      el('span', { cls: 'queue-why muted', text: why }),
    ]);
    if (i === 0) {
      btn.setAttribute('aria-current', 'true');
      btn.disabled = true;
    } else {
      btn.title = 'Look at this row now';
      btn.addEventListener('click', () => focusCandidate(c.rowId));
    }
    return el('li', { cls: i === 0 ? 'now' : '' }, [btn]);
  });
  list.replaceChildren(...items);
  if (items.length === 0) list.replaceChildren(el('li', { cls: 'muted', text: 'None.' }));
}

// The discovery curve: anomalies found against labels given. The server
// keeps no history of the counts, so the curve starts at the session's
// counts when the page opened (dashed from the origin) and follows the
// verdicts seen here.
function renderCurve() {
  const svg = document.getElementById('curve');
  const W = 320, H = 210, L = 38, R = 12, T = 12, B = 34;
  const pts = state.curve;
  const maxX = Math.max(10, ...pts.map((p) => p.labels));
  const maxY = Math.max(5, ...pts.map((p) => p.anomalies));
  const sx = (x) => L + (x / maxX) * (W - L - R);
  const sy = (y) => H - B - (y / maxY) * (H - T - B);
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const parts = [];
  const last = pts.at(-1) ?? { labels: 0, anomalies: 0 };
  parts.push(node('title', { id: 'curve-title' },
    `Discovery curve: ${last.anomalies} anomalies found in ${last.labels} labels`));
  for (const [max, axis] of [[maxX, 'x'], [maxY, 'y']]) {
    const step = niceStep(max);
    for (let v = 0; v <= max + 1e-9; v += step) {
      if (axis === 'x') {
        parts.push(node('line', { x1: sx(v), x2: sx(v), y1: T, y2: H - B, class: 'grid' }));
        parts.push(node('text', { x: sx(v), y: H - B + 14, class: 'tick', 'text-anchor': 'middle' }, String(v)));
      } else {
        parts.push(node('line', { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: 'grid' }));
        parts.push(node('text', { x: L - 6, y: sy(v) + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
      }
    }
  }
  parts.push(node('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
  parts.push(node('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  parts.push(node('text', { x: (L + W - R) / 2, y: H - 4, class: 'label', 'text-anchor': 'middle' }, 'labels given'));
  parts.push(node('text', { x: 11, y: (T + H - B) / 2, class: 'label', 'text-anchor': 'middle',
                            transform: `rotate(-90 11 ${(T + H - B) / 2})` }, 'anomalies found'));
  // Every label an anomaly: the best a curve can do.
  const diag = Math.min(maxX, maxY);
  parts.push(node('line', { x1: sx(0), y1: sy(0), x2: sx(diag), y2: sy(diag), class: 'ideal' }));
  if (pts.length) {
    const first = pts[0];
    if (first.labels > 0) {
      parts.push(node('line', { x1: sx(0), y1: sy(0), x2: sx(first.labels), y2: sy(first.anomalies), class: 'before' }));
    }
    let d = `M${sx(first.labels)},${sy(first.anomalies)}`;
    for (const p of pts.slice(1)) d += ` L${sx(p.labels)},${sy(p.anomalies)}`;
    parts.push(node('path', { d, class: 'found' }));
    for (const p of pts) {
      parts.push(node('circle', { cx: sx(p.labels), cy: sy(p.anomalies), r: 2.6, class: 'point' }));
    }
  }
  svg.replaceChildren(...parts);
  const s = state.start ?? { labels: 0, anomalies: 0 };
  setText('curve-caption',
    `Anomalies found against labels given. The server keeps no history of the counts: the curve ` +
    `starts at the session's counts when this page opened (${s.labels} labels, ${s.anomalies} ` +
    `anomalies${s.labels > 0 ? ', dashed from the origin' : ''}) and follows the verdicts seen ` +
    `here. The grey diagonal is every label an anomaly.`);
}

function niceStep(max) {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return Math.max(1, m * mag);
  return Math.max(1, 10 * mag);
}

function render() {
  renderCandidate();
  renderQueue();
  renderProgress();
  renderButtons();
  renderState();
}

// ---------------------------------------------------------------- start

// Keeps the progress current (labels given elsewhere, a training run ending)
// and notices a lost server, which the banner shows until it answers again.
async function heartbeat() {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS));
    if (state.busy) continue;
    try {
      const hadModel = num(state.info?.modelVersion) > 0;
      await loadSession();
      if (state.busy) continue;
      if (!state.loaded || (!hadModel && num(state.info?.modelVersion) > 0)) {
        await loadCandidates();
        state.loaded = true;
      }
      render();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        sayError('The session is gone', e);
      }
    }
  }
}

async function start() {
  setText('session-id', sessionId);
  document.title = `aadd · ${sessionId}`;
  document.getElementById('btn-anomaly').addEventListener('click', () => verdict(true));
  document.getElementById('btn-nominal').addEventListener('click', () => verdict(false));
  document.getElementById('btn-skip').addEventListener('click', skip);
  document.getElementById('btn-undo').addEventListener('click', undo);
  document.getElementById('btn-refresh').addEventListener('click', refreshNow);
  document.addEventListener('keydown', onKey);
  onReconnect(() => {
    if (!state.busy) refreshNow();
    say('The server answers again.');
  });
  render();
  try {
    await refresh();
  } catch (e) {
    sayError(e instanceof ApiError && e.status === 404 ? 'No such session' : 'Could not load the session', e);
  }
  renderState();
  heartbeat();
}

start();
