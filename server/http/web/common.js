// Shared by both pages: the JSON API (with retries while the server is
// away, shown in the banner), number formats and DOM helpers. Every text
// that comes from the server is inserted with textContent, never as HTML.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

// Answers that mean "the server is not there (right now)": the gateway's
// UNAVAILABLE, or a proxy in front of a stopped aadd.
const RETRY_STATUSES = new Set([502, 503, 504]);
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;

let lostSince = null;
const connectionListeners = [];

// fn(true) when the server answers again after it was lost.
export function onReconnect(fn) {
  connectionListeners.push(fn);
}

function showLost(attempt, delayMs) {
  const banner = document.getElementById('banner');
  if (lostSince === null) lostSince = Date.now();
  if (!banner) return;
  banner.hidden = false;
  banner.textContent =
    `Lost the connection to the aadd server. Retrying in ${Math.round(delayMs / 100) / 10} s ` +
    `(attempt ${attempt}); your verdicts so far are stored.`;
  document.body.classList.add('offline');
}

function showBack() {
  if (lostSince === null) return;
  lostSince = null;
  const banner = document.getElementById('banner');
  if (banner) {
    banner.hidden = true;
    banner.textContent = '';
  }
  document.body.classList.remove('offline');
  for (const fn of connectionListeners) fn();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A server with --auth_tokens answers 401 without a bearer token. The
// expert's token is kept in sessionStorage (this tab only, gone when it
// closes; never in the URL or localStorage) and asked for again when the
// server refuses it (revoked, or a typo).
const TOKEN_KEY = 'aadd-token';

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';  // storage disabled: ask each time
  }
}

// Asks for a token after a 401; false when the expert cancels.
function askForToken(message) {
  const token = window.prompt(
    `This aadd server needs a bearer token (${message}).\nEnter your token:`, '');
  if (token === null || token.trim() === '') return false;
  try {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  } catch {
    // Kept nowhere: it is asked for again on the next 401.
  }
  return true;
}

function requestHeaders(body) {
  const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
  const token = storedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

// Calls the JSON API. Network failures and 502/503/504 are retried with
// exponential backoff until the server answers (the banner says so);
// other errors throw ApiError with the server's code and message.
// Every call the pages make is safe to repeat: reads, and labels (a label
// sent twice replaces itself).
// A request that hangs past timeoutMs counts as lost too.
export async function api(path, { method = 'GET', body, timeoutMs = 20000 } = {}) {
  let delay = FIRST_RETRY_MS;
  for (let attempt = 1; ; ++attempt) {
    let status = 0;
    let text = '';
    try {
      const res = await fetch(path, {
        method,
        cache: 'no-store',
        headers: requestHeaders(body),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch {
      status = 0;  // no answer at all
    }
    if (status !== 0 && !RETRY_STATUSES.has(status)) {
      showBack();
      let data = {};
      try {
        data = text ? JSON.parse(text) : {};
      } catch {
        data = { code: String(status), message: text.slice(0, 200) };
      }
      if (status === 401) {
        try {
          sessionStorage.removeItem(TOKEN_KEY);
        } catch {
          // nothing stored
        }
        if (askForToken(data.message || 'missing or refused')) {
          --attempt;  // not a retry of a lost server
          continue;
        }
      }
      if (status < 200 || status > 299) {
        throw new ApiError(status, data.code || `HTTP ${status}`, data.message || 'request failed');
      }
      return data;
    }
    showLost(attempt, delay);
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}

// int64 fields arrive as JSON strings, and fields at their default value
// may be left out of the JSON altogether.
export const num = (v) => (v === undefined || v === null || v === '' ? 0 : Number(v));

// "TRAINING_STATE_IDLE" -> "idle".
export function enumName(v, prefix) {
  if (!v) return 'unspecified';
  return String(v).startsWith(prefix) ? String(v).slice(prefix.length).toLowerCase() : String(v);
}

// Readable numbers: 4 significant digits, no trailing zeros, exponents
// only for very large or very small magnitudes.
export function fmt(x) {
  const v = Number(x);
  if (!Number.isFinite(v)) return String(x);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e7 || a < 1e-4) return v.toExponential(2);
  if (a >= 1e4) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(4)));
}

// A signed number with a real minus sign; `decimals` fixes the decimals
// (logit contributions read best as +1.23), else as fmt.
export function signed(x, decimals) {
  const v = Number(x);
  const text = decimals === undefined || !Number.isFinite(v) ? fmt(Math.abs(v)) : Math.abs(v).toFixed(decimals);
  if (/^0(\.0*)?$/.test(text)) return text;
  return `${v < 0 ? '\u2212' : '+'}${text}`;
}

export const percent = (p) => {
  const v = Number(p) * 100;
  if (v > 99.9 && v < 100) return '>99.9 %';
  if (v < 0.1 && v > 0) return '<0.1 %';
  return `${v.toFixed(1)} %`;
};

// Creates an element; text is set with textContent.
export function el(tag, { cls, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

export function setText(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}
