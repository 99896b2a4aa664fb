/**
 * The status page of `resmon run --http`: one HTML file, one script and one style sheet, served
 * by resmon itself (no build step, no CDN, nothing fetched from elsewhere). The script builds
 * every element with the DOM API and sets text with `textContent`, so a resource name or reason
 * is always shown as text, never parsed as HTML; the Content-Security-Policy header forbids
 * inline script on top of that.
 */

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f7a4d"/><path d="M5 17h6l3-8 4 14 3-6h6" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>resmon</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand"><img src="/favicon.svg" alt="" width="26" height="26"><span>resmon</span></div>
  <div id="title" class="title"></div>
  <div id="conn" class="conn" data-live="false"><span class="dot"></span><span id="conn-text">connecting…</span></div>
</header>
<section id="summary" class="summary" aria-label="summary"></section>
<main id="list" class="list"></main>
<footer class="legend" aria-label="legend">
  <span><i class="sw" data-state="online"></i>online</span>
  <span><i class="sw" data-state="online-pending"></i>online-pending</span>
  <span><i class="sw" data-state="offline-pending"></i>offline-pending</span>
  <span><i class="sw" data-state="offline"></i>offline</span>
  <span><i class="sw" data-state="failed"></i>failed</span>
  <span><i class="mk failure"></i>failure</span>
  <span><i class="mk restart"></i>restart</span>
  <span><i class="mk check"></i>failed check</span>
  <span class="grow"></span>
  <span><a href="/v1/status">JSON</a> · <a href="/metrics">metrics</a> · <a href="/readyz">readyz</a></span>
</footer>
</body>
</html>
`;

export const PAGE_CSS = `:root {
  --bg: #f4f6f8; --card: #fff; --fg: #1c2430; --muted: #66717f; --line: #e2e6eb; --track: #eef1f4;
  --online: #23a26d; --online-pending: #4a8fe7; --offline-pending: #9a7ad8; --offline: #aab3bd; --failed: #df4b4b;
  --restart: #e8a317; --check: #5b6573;
  --radius: 12px;
  font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1419; --card: #171e26; --fg: #e6eaef; --muted: #9aa6b2; --line: #27313c; --track: #212a34; --offline: #5d6873; --check: #aab4bf; }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; }
a { color: inherit; }
.top { display: flex; align-items: center; gap: 14px; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.brand { display: flex; align-items: center; gap: 8px; font-weight: 700; font-size: 18px; letter-spacing: .2px; }
.title { color: var(--muted); font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; min-width: 0; }
.conn { display: flex; align-items: center; gap: 6px; font-size: 13px; color: var(--muted); white-space: nowrap; }
.conn .dot { width: 9px; height: 9px; border-radius: 50%; background: var(--failed); }
.conn[data-live="true"] .dot { background: var(--online); box-shadow: 0 0 0 3px color-mix(in srgb, var(--online) 25%, transparent); }
.summary { display: flex; flex-wrap: wrap; gap: 8px; padding: 16px 24px 4px; }
.pill { display: inline-flex; align-items: center; gap: 6px; padding: 5px 11px; border-radius: 999px; background: var(--card); border: 1px solid var(--line); font-size: 13px; }
.pill b { font-variant-numeric: tabular-nums; }
.pill i, .sw { width: 10px; height: 10px; border-radius: 3px; display: inline-block; background: var(--offline); }
[data-state="online"] > i, .sw[data-state="online"] { background: var(--online); }
[data-state="online-pending"] > i, .sw[data-state="online-pending"] { background: var(--online-pending); }
[data-state="offline-pending"] > i, .sw[data-state="offline-pending"] { background: var(--offline-pending); }
[data-state="failed"] > i, .sw[data-state="failed"] { background: var(--failed); }
.list { display: grid; gap: 12px; padding: 12px 24px 24px; flex: 1; align-content: start; }
.empty { color: var(--muted); padding: 40px 0; text-align: center; }
.res { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--offline); border-radius: var(--radius); padding: 14px 16px 12px; min-width: 0; }
.res[data-state="online"] { border-left-color: var(--online); }
.res[data-state="online-pending"] { border-left-color: var(--online-pending); }
.res[data-state="offline-pending"] { border-left-color: var(--offline-pending); }
.res[data-state="failed"] { border-left-color: var(--failed); }
.head { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; min-width: 0; }
.name { font-size: 16px; font-weight: 650; margin: 0; overflow-wrap: anywhere; min-width: 0; }
.type { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 6px; padding: 1px 6px; }
.badge { font-size: 12px; font-weight: 600; padding: 2px 9px; border-radius: 999px; color: #fff; background: var(--offline); white-space: nowrap; }
.badge[data-state="online"] { background: var(--online); }
.badge[data-state="online-pending"] { background: var(--online-pending); }
.badge[data-state="offline-pending"] { background: var(--offline-pending); }
.badge[data-state="failed"] { background: var(--failed); }
.since { font-size: 12px; color: var(--muted); margin-left: auto; white-space: nowrap; }
.facts { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 6px 18px; margin: 10px 0 10px; }
.facts div { min-width: 0; }
.facts dt { font-size: 11px; text-transform: uppercase; letter-spacing: .5px; color: var(--muted); }
.facts dd { margin: 2px 0 0; font-size: 13px; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.ok { color: var(--online); font-weight: 700; }
.bad { color: var(--failed); font-weight: 700; }
.reason { color: var(--muted); }
.tl { position: relative; }
.tl svg { display: block; width: 100%; height: 26px; border-radius: 6px; background: var(--track); }
.tl .seg[data-state="online"] { fill: var(--online); }
.tl .seg[data-state="online-pending"] { fill: var(--online-pending); }
.tl .seg[data-state="offline-pending"] { fill: var(--offline-pending); }
.tl .seg[data-state="offline"] { fill: var(--offline); }
.tl .seg[data-state="failed"] { fill: var(--failed); }
.tl .mark { stroke-width: 2; vector-effect: non-scaling-stroke; }
.tl .mark.failure { stroke: #8f1d1d; }
.tl .mark.restart { stroke: var(--restart); stroke-width: 3; }
.tl .mark.check { stroke: var(--check); stroke-width: 1.5; }
.axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); margin-top: 3px; font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; padding: 12px 24px 18px; font-size: 12px; color: var(--muted); }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend .grow { flex: 1; }
.mk { width: 3px; height: 12px; display: inline-block; }
.mk.failure { background: #8f1d1d; } .mk.restart { background: var(--restart); } .mk.check { background: var(--check); }
@media (max-width: 640px) {
  .top { padding: 12px 14px; gap: 10px; }
  .title { display: none; }
  .summary { padding: 12px 14px 0; }
  .list { padding: 10px 14px 18px; gap: 10px; }
  .facts { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .since { margin-left: 0; width: 100%; }
  .axis span:nth-child(even) { visibility: hidden; }
  .legend { padding: 10px 14px 16px; }
}
`;

export const PAGE_JS = `'use strict';
(() => {
  const STATES = ['online', 'online-pending', 'offline-pending', 'offline', 'failed'];
  const byName = new Map();      // name -> ResourceStatus
  const timelines = new Map();   // name -> { segments: [{state, start}], marks: [{at, kind, text}] }
  const cards = new Map();       // name -> elements
  const dirty = new Set();
  let order = [];
  let windowMs = 3600000;
  let offset = 0;                // server clock - this clock
  let frame = 0;
  const now = () => Date.now() + offset;
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = (tag, attrs) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  };

  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    const h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) throw new Error(path + ': ' + res.status);
    return res.json();
  }

  async function load() {
    const [status, tl] = await Promise.all([getJson('/v1/status'), getJson('/v1/timeline')]);
    offset = tl.now - Date.now();
    windowMs = tl.windowMs;
    const title = status.title || status.file || '';
    $('title').textContent = title;
    if (title) document.title = 'resmon · ' + title;
    byName.clear();
    timelines.clear();
    for (const r of status.resources) byName.set(r.name, r);
    for (const t of tl.resources) timelines.set(t.name, { segments: t.segments, marks: t.marks });
    order = status.resources.map((r) => r.name);
    for (const [name, c] of cards) if (!byName.has(name)) { c.root.remove(); cards.delete(name); }
    for (const name of order) dirty.add(name);
    schedule();
  }

  const refetching = new Map();
  function refetch(name) {
    if (refetching.has(name)) return;
    refetching.set(name, setTimeout(async () => {
      refetching.delete(name);
      try {
        const r = await getJson('/v1/resources/' + encodeURIComponent(name));
        byName.set(name, r);
        dirty.add(name);
        schedule();
      } catch (e) { /* removed meanwhile: the next load drops it */ }
    }, 120));
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  }

  function card(name) {
    let c = cards.get(name);
    if (c) return c;
    const root = el('article', 'res');
    root.dataset.resource = name;
    const head = el('div', 'head');
    const badge = el('span', 'badge');
    const title = el('h2', 'name', name);
    const type = el('span', 'type');
    const since = el('span', 'since');
    head.append(badge, title, type, since);
    const facts = el('dl', 'facts');
    const fact = (label) => {
      const d = el('div');
      const dd = el('dd');
      d.append(el('dt', '', label), dd);
      facts.append(d);
      return dd;
    };
    const looks = fact('looksAlive');
    const is = fact('isAlive');
    const restarts = fact('restarts');
    const next = fact('next restart');
    const tl = el('div', 'tl');
    const graph = svg('svg', { viewBox: '0 0 1000 26', preserveAspectRatio: 'none', role: 'img' });
    tl.append(graph);
    const axis = el('div', 'axis');
    for (const label of ['60 min ago', '45', '30', '15', 'now']) axis.append(el('span', '', label));
    root.append(head, facts, tl, axis);
    c = { root, badge, type, since, looks, is, restarts, next, graph };
    cards.set(name, c);
    return c;
  }

  function check(dd, result) {
    dd.replaceChildren();
    if (!result) { dd.append(el('span', 'reason', '—')); return; }
    dd.append(el('span', result.ok ? 'ok' : 'bad', result.ok ? '✓ ' : '✗ '));
    dd.append(document.createTextNode((result.durationMs < 1 ? '<1' : Math.round(result.durationMs)) + ' ms · '));
    const when = el('span', 'ago');
    when.dataset.at = String(result.at);
    when.textContent = ago(now() - result.at) + ' ago';
    dd.append(when);
    if (!result.ok && result.reason) { dd.append(el('br')); dd.append(el('span', 'reason', result.reason)); }
  }

  function drawTimeline(name, c) {
    const t = timelines.get(name) || { segments: [], marks: [] };
    const end = now();
    const start = end - windowMs;
    const x = (at) => Math.max(0, Math.min(1000, ((at - start) / windowMs) * 1000));
    const g = c.graph;
    g.replaceChildren();
    const segs = t.segments;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      const stop = i + 1 < segs.length ? segs[i + 1].start : end;
      if (stop < start) continue;
      const x0 = x(s.start), x1 = x(stop);
      const rect = svg('rect', { class: 'seg', x: x0, y: 0, width: Math.max(x1 - x0, 0.6), height: 26 });
      rect.dataset.state = s.state;
      const tip = svg('title', {});
      tip.textContent = s.state + ' from ' + new Date(s.start - offset).toLocaleTimeString() + (i + 1 < segs.length ? ' to ' + new Date(stop - offset).toLocaleTimeString() : ' until now');
      rect.append(tip);
      g.append(rect);
    }
    for (const m of t.marks) {
      if (m.at < start) continue;
      const mx = x(m.at);
      const line = svg('line', { class: 'mark ' + m.kind, x1: mx, x2: mx, y1: m.kind === 'check' ? 16 : 0, y2: 26 });
      const tip = svg('title', {});
      tip.textContent = m.kind + ' at ' + new Date(m.at - offset).toLocaleTimeString() + ': ' + m.text;
      line.append(tip);
      g.append(line);
    }
    g.setAttribute('aria-label', name + ': states over the last hour');
  }

  function texts(name, c) {
    const r = byName.get(name);
    if (!r) return;
    c.since.textContent = 'for ' + ago(now() - r.since);
    c.next.textContent = r.nextRestartAt === null ? '—' : 'in ' + ago(r.nextRestartAt - now());
    for (const a of c.root.querySelectorAll('.ago')) a.textContent = ago(now() - Number(a.dataset.at)) + ' ago';
  }

  function render() {
    const list = $('list');
    if (order.length === 0) {
      if (!list.querySelector('.empty')) list.replaceChildren(el('p', 'empty', 'No resources.'));
    } else {
      const empty = list.querySelector('.empty');
      if (empty) empty.remove();
    }
    for (const name of dirty) {
      const r = byName.get(name);
      if (!r) continue;
      const c = card(name);
      c.root.dataset.state = r.state;
      c.badge.dataset.state = r.state;
      c.badge.textContent = r.state;
      c.type.textContent = r.type + (r.group ? ' · group ' + r.group : '') + (r.host ? ' · ' + r.host : '');
      check(c.looks, r.lastChecks.looksAlive);
      check(c.is, r.lastChecks.isAlive);
      c.restarts.textContent = r.restarts.inWindow + ' in window · ' + r.restarts.total + ' total';
      texts(name, c);
      drawTimeline(name, c);
    }
    dirty.clear();
    // Keep the cards in the monitor's order.
    let prev = null;
    for (const name of order) {
      const c = cards.get(name);
      if (!c) continue;
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== c.root) list.insertBefore(c.root, want);
      prev = c.root;
    }
    summary();
  }

  function summary() {
    const counts = {};
    for (const r of byName.values()) counts[r.state] = (counts[r.state] || 0) + 1;
    const box = $('summary');
    box.replaceChildren();
    const total = el('span', 'pill');
    total.append(el('b', '', String(byName.size)), document.createTextNode(byName.size === 1 ? ' resource' : ' resources'));
    box.append(total);
    for (const s of STATES) {
      if (!counts[s]) continue;
      const p = el('span', 'pill');
      p.dataset.state = s;
      p.append(el('i'), el('b', '', String(counts[s])), document.createTextNode(' ' + s));
      box.append(p);
    }
  }

  let loading = null;
  let pending = [];
  function reload() {
    // Events that arrive while loading are kept and applied afterwards (those the load already
    // reflects are skipped), so nothing between the snapshot and the stream is lost.
    if (!loading) {
      pending = [];
      loading = load().then(() => {
        const queued = pending;
        pending = [];
        loading = null;
        for (const [type, e] of queued) {
          const r = byName.get(e.resource);
          if (type === 'stateChange' && r && e.at <= r.since) continue;
          onEvent(type, e);
        }
      }, (err) => {
        loading = null;
        $('conn-text').textContent = 'cannot load: ' + err.message;
      });
    }
    return loading;
  }

  function onEvent(type, e) {
    if (typeof e.resource !== 'string') return; // groupStateChange: the members' own events say it all
    if (loading) { pending.push([type, e]); return; }
    if (!byName.has(e.resource)) { reload(); return; }
    const r = byName.get(e.resource);
    const t = timelines.get(e.resource) || { segments: [], marks: [] };
    timelines.set(e.resource, t);
    if (type === 'stateChange') {
      r.state = e.to;
      r.since = e.at;
      r.generation = e.generation;
      t.segments.push({ state: e.to, start: e.at });
      if (e.to === 'failed') t.marks.push({ at: e.at, kind: 'failure', text: e.reason });
      if (e.from === 'failed' && e.to === 'online-pending') t.marks.push({ at: e.at, kind: 'restart', text: e.reason });
      refetch(e.resource);
    } else if (type === 'check') {
      r.lastChecks[e.kind] = { ok: e.ok, at: e.at, durationMs: e.durationMs, reason: e.reason === undefined ? null : e.reason };
      if (!e.ok) t.marks.push({ at: e.at, kind: 'check', text: e.kind + ' failed' + (e.reason ? ': ' + e.reason : '') });
    } else if (type === 'restartScheduled') {
      r.nextRestartAt = e.at + e.delayMs;
      refetch(e.resource);
    } else {
      refetch(e.resource);
    }
    dirty.add(e.resource);
    schedule();
  }

  function connect() {
    const conn = $('conn');
    const text = $('conn-text');
    const source = new EventSource('/v1/events');
    source.onopen = () => {
      conn.dataset.live = 'true';
      text.textContent = 'live';
      // Load once the stream is open (and again after a reconnect, since events may have been missed).
      reload();
    };
    source.onerror = () => {
      conn.dataset.live = 'false';
      text.textContent = 'reconnecting…';
    };
    for (const type of ['stateChange', 'check', 'slowCall', 'callTimeout', 'progress', 'restartScheduled', 'escalated', 'hostExit', 'groupStateChange']) {
      source.addEventListener(type, (m) => {
        try { onEvent(type, JSON.parse(m.data)); } catch (err) { console.error(err); }
      });
    }
  }

  setInterval(() => {
    for (const [name, c] of cards) texts(name, c);
  }, 1000);
  setInterval(() => {
    for (const [name, c] of cards) drawTimeline(name, c);
  }, 5000);

  connect();
})();
`;
