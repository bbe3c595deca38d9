// FaasEvents console: every view is a call of the server's admin API (docs/control-plane.md); nothing is loaded from
// anywhere else. Data is always put in the page as text (never as HTML).
'use strict';

const main = document.getElementById('main');
let timers = [];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
  return node;
}

function table(headers, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, headers.map(h => el('th', { class: h.num ? 'num' : undefined }, h.title ?? h)))),
    el('tbody', {}, rows.map(r => el('tr', {}, r.map((c, i) => el('td', { class: headers[i].num ? 'num' : undefined }, c))))));
}

const fmt = n => (n ?? 0).toLocaleString('en-US');

function askForKey() {
  return new Promise(resolve => {
    const dialog = document.getElementById('auth');
    document.getElementById('auth-form').onsubmit = () => { sessionStorage.setItem('faas-key', document.getElementById('auth-key').value); resolve(); };
    dialog.showModal();
  });
}

async function api(path, options = {}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers = { ...(options.headers || {}) };
    const key = sessionStorage.getItem('faas-key');
    if (key) headers['x-api-key'] = key;
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401) { await askForKey(); continue; }
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(body?.detail || body?.title || `${response.status} ${response.statusText}`);
    return body;
  }
  throw new Error('not authorized: the API key was refused');
}

function show(...nodes) { main.replaceChildren(...nodes.flat()); main.focus(); }
function problem(e) { return el('p', { class: 'error', role: 'alert' }, e.message); }

async function streamsPage() {
  const streams = await api('/streams');
  show(el('h1', {}, 'Streams'), streams.length === 0 ? el('p', { class: 'muted' }, 'No streams yet.') : table(
    ['Stream', { title: 'Partitions', num: true }, 'Kind', 'Retention', { title: 'Events', num: true }, { title: 'Bytes', num: true }, 'End offsets'],
    streams.map(s => [el('a', { href: `#/stream/${encodeURIComponent(s.name)}` }, s.name), s.partitions, s.kind, s.retention, fmt(s.events), fmt(s.bytes), s.endOffsets.join(', ')])));
}

async function streamPage(name) {
  const s = await api(`/streams/${encodeURIComponent(name)}`);
  const results = el('div', { id: 'events' });
  const form = el('form', { class: 'bar', id: 'browse' },
    el('label', {}, 'From', el('input', { name: 'from', value: 'earliest', placeholder: 'earliest, latest, offset, time', size: 22 })),
    el('label', {}, 'Partition', el('select', { name: 'partition' }, el('option', { value: '' }, 'all'), s.partitionInfo.map(p => el('option', { value: p.partition }, p.partition)))),
    el('label', {}, 'Key', el('input', { name: 'key', size: 14 })),
    el('label', {}, 'Type', el('input', { name: 'type', size: 18 })),
    el('label', {}, 'Id', el('input', { name: 'id', size: 18 })),
    el('label', {}, 'Page size', el('input', { name: 'limit', value: 50, size: 4 })),
    el('button', { type: 'submit' }, 'Show events'));
  const query = cursor => {
    const q = new URLSearchParams();
    for (const f of ['from', 'partition', 'key', 'type', 'id', 'limit']) if (form.elements[f].value) q.set(f, form.elements[f].value);
    if (cursor) q.set('cursor', cursor);
    return q.toString();
  };
  const load = async cursor => {
    try {
      const page = await api(`/streams/${encodeURIComponent(name)}/events?${query(cursor)}`);
      results.replaceChildren(
        page.events.length === 0 ? el('p', { class: 'muted' }, `No events match (${fmt(page.scanned)} read).`) : table(
          [{ title: 'Partition', num: true }, { title: 'Offset', num: true }, 'Time', 'Id', 'Type', 'Key', 'Data'],
          page.events.map(e => [e.partition, e.offset, e.timestamp, e.id, e.type, e.partitionkey ?? '',
            e.tombstone ? el('span', { class: 'tombstone' }, 'tombstone (no data)') : el('pre', {}, typeof e.data === 'string' ? e.data : JSON.stringify(e.data ?? e.data_base64, null, 2))])),
        page.next ? el('button', { id: 'next-page', onclick: () => load(page.next) }, 'Next page') : el('p', { class: 'muted' }, 'End of the stream.'));
    } catch (e) { results.replaceChildren(problem(e)); }
  };
  form.addEventListener('submit', ev => { ev.preventDefault(); load(); });
  show(el('h1', {}, `Stream ${s.name}`),
    el('p', { class: 'muted' }, `${s.kind}, ${s.partitions} partitions, retention ${s.retention}, created ${s.createdAt}`),
    table([{ title: 'Partition', num: true }, { title: 'Earliest', num: true }, { title: 'End offset', num: true }, { title: 'Segments', num: true }, { title: 'Bytes', num: true }, 'Last append'],
      s.partitionInfo.map(p => [p.partition, fmt(p.earliestOffset), fmt(p.endOffset), p.segments, fmt(p.bytes), p.lastAppend ?? '-'])),
    el('h2', {}, 'Events'), form, results);
  load();
}

async function groupsPage() {
  const groups = await api('/groups');
  show(el('h1', {}, 'Consumer groups'), groups.length === 0 ? el('p', { class: 'muted' }, 'No consumer groups yet.') : table(
    ['Stream', 'Group', 'Consumption', { title: 'Partitions', num: true }, { title: 'Held now', num: true }, ''],
    groups.map(g => [g.stream, el('a', { href: `#/group/${encodeURIComponent(g.stream)}/${encodeURIComponent(g.group)}` }, g.group), g.consumption, g.partitions, g.consumption === 'queue' ? '-' : g.owned,
      el('a', { href: `#/deadletters/${encodeURIComponent(g.stream)}/${encodeURIComponent(g.group)}` }, 'dead letters')])));
}

function drawLag(canvas, history) {
  const ctx = canvas.getContext('2d');
  canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight;
  const max = Math.max(1, ...history);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--accent');
  ctx.lineWidth = 2;
  ctx.beginPath();
  history.forEach((v, i) => { const x = history.length < 2 ? 0 : i * (canvas.width - 4) / (history.length - 1) + 2; const y = canvas.height - 4 - v * (canvas.height - 8) / max; i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
  ctx.stroke();
  if (history.length === 1) { ctx.fillStyle = ctx.strokeStyle; ctx.fillRect(2, canvas.height - 6 - history[0] * (canvas.height - 8) / max, 4, 4); }
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--muted');
  ctx.fillText(`max ${fmt(max)}`, 6, 12);
}

async function groupPage(stream, group) {
  const rows = await api(`/streams/${encodeURIComponent(stream)}/groups/${encodeURIComponent(group)}`);
  const queue = rows.length > 0 && 'settledBelow' in rows[0];
  const lagNow = el('strong', { id: 'total-lag' }, '...');
  const canvas = el('canvas', { id: 'lag-chart', 'aria-label': 'total lag over time' });
  const history = [];
  const partitions = queue
    ? table([{ title: 'Partition', num: true }, { title: 'End offset', num: true }, { title: 'Settled below', num: true }, { title: 'Unsettled', num: true }, { title: 'Locked', num: true }, { title: 'Waiting', num: true }, { title: 'Redelivered', num: true }, 'Owners', 'Oldest unsettled'],
      rows.map(r => [r.partition, fmt(r.endOffset), r.settledBelow ?? '-', fmt(r.unsettled), r.locked, r.waiting, r.redelivered, r.owners.join(', ') || '-', r.oldestUnsettledAt ?? '-']))
    : table([{ title: 'Partition', num: true }, { title: 'Checkpoint', num: true }, { title: 'End offset', num: true }, { title: 'Lag', num: true }, 'Owner', 'Lease', 'Checkpointed at'],
      rows.map(r => [r.partition, r.checkpoint ?? '-', fmt(r.endOffset), fmt(r.lag), r.owner ?? '-', r.lease, r.checkpointedAt ?? '-']));
  const poll = async () => {
    try {
      const lag = await api(`/streams/${encodeURIComponent(stream)}/groups/${encodeURIComponent(group)}/lag${queue ? '?consumption=queue' : ''}`);
      history.push(lag.totalLag); if (history.length > 150) history.shift();
      lagNow.textContent = fmt(lag.totalLag);
      drawLag(canvas, history);
    } catch (e) { lagNow.textContent = e.message; }
  };
  const result = el('div', { id: 'reset-result' });
  const reset = el('form', { class: 'bar', id: 'reset' },
    el('label', {}, 'Reset to', el('select', { name: 'to' }, ['earliest', 'latest', 'offset', 'time'].map(t => el('option', { value: t }, t)))),
    el('label', {}, 'Offset or time', el('input', { name: 'value', size: 24 })),
    el('button', { type: 'button', id: 'preview', onclick: () => doReset(true) }, 'Preview'),
    el('button', { type: 'button', id: 'apply', onclick: () => doReset(false) }, 'Reset'));
  async function doReset(dryRun) {
    const to = reset.elements.to.value, value = reset.elements.value.value;
    const body = to === 'offset' ? { offset: Number(value) } : to === 'time' ? { time: value } : { to };
    if (!dryRun && !confirm(`Reset group ${group} on ${stream} to ${to} ${value}? Its instances then start from there.`)) return;
    try {
      const plan = await api(`/streams/${encodeURIComponent(stream)}/groups/${encodeURIComponent(group)}/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, dryRun }) });
      result.replaceChildren(el('p', {}, dryRun ? 'Preview (nothing changed):' : 'Reset applied:'), table([{ title: 'Partition', num: true }, { title: 'From', num: true }, { title: 'To', num: true }, { title: 'Lag before', num: true }, { title: 'Lag after', num: true }],
        plan.partitions.map(p => [p.partition, p.from, p.to, fmt(p.lagBefore), fmt(p.lagAfter)])));
      if (!dryRun) poll();
    } catch (e) { result.replaceChildren(problem(e)); }
  }
  show(el('h1', {}, `Group ${group} on ${stream}`), el('p', {}, 'Total lag: ', lagNow, queue ? ' (unsettled events: queue consumption)' : ''), canvas, partitions,
    el('p', {}, el('a', { href: `#/deadletters/${encodeURIComponent(stream)}/${encodeURIComponent(group)}` }, 'Dead letters')),
    queue ? el('p', { class: 'muted' }, 'A queue group cannot be reset; deleting it makes it consume the stream from its start.') : [el('h2', {}, 'Reset'), reset, result]);
  poll();
  timers.push(setInterval(poll, 2000));
}

async function deadLettersPage(stream, group) {
  const letters = await api(`/streams/${encodeURIComponent(stream)}/groups/${encodeURIComponent(group)}/deadletters`);
  const result = el('div', { id: 'replay-result' });
  const replay = async body => {
    try {
      const r = await api(`/streams/${encodeURIComponent(stream)}/groups/${encodeURIComponent(group)}/deadletters/replay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      result.replaceChildren(el('p', {}, `Replayed ${r.results.filter(x => x.to).length} of ${r.results.length}.`), table(['Id', 'Result'], r.results.map(x => [x.id, x.to ? `appended to ${x.to}` : (x.note ?? 'skipped')])));
    } catch (e) { result.replaceChildren(problem(e)); }
  };
  show(el('h1', {}, `Dead letters of ${group} on ${stream}`),
    letters.length === 0 ? el('p', { class: 'muted' }, 'No dead letters.') : [
      el('p', {}, el('button', { id: 'replay-all', onclick: () => confirm(`Replay all ${letters.length} dead letters to ${stream}?`) && replay({}) }, 'Replay all')),
      table(['Id', 'Type', 'Key', { title: 'Attempts', num: true }, 'Error', 'From', ''],
        letters.map(l => [l.id, l.type, l.key ?? '', l.attempts, l.error, `${l.source.stream} ${l.source.partition}/${l.source.offset}`, el('button', { onclick: () => replay({ id: l.id }) }, 'Replay')]))],
    result);
}

async function functionsPage() {
  const seen = await api('/scaledobjects');
  show(el('h1', {}, 'Functions (as the scaler sees them)'),
    seen.length === 0 ? el('p', { class: 'muted' }, 'The scaler has not been asked about any ScaledObject yet (KEDA or faas dev asks every polling interval).') : table(
      ['ScaledObject', 'Stream', 'Group', 'Consumption', { title: 'Lag', num: true }, 'Active', { title: 'Desired instances', num: true }, 'Last asked'],
      seen.map(s => [`${s.namespace}/${s.name}`, s.stream, el('a', { href: `#/group/${encodeURIComponent(s.stream)}/${encodeURIComponent(s.consumerGroup)}` }, s.consumerGroup), s.consumption, fmt(s.lag), s.active ? 'yes' : 'no', s.desiredReplicas, s.lastAskedAt])));
}

function producePage() {
  const result = el('div', { id: 'produce-result' });
  const form = el('form', { id: 'produce' },
    el('p', {}, el('label', {}, 'Stream', el('input', { name: 'stream', required: true }))),
    el('p', {}, el('label', {}, 'Type', el('input', { name: 'type', value: 'com.example.test', required: true })), el('label', {}, 'Source', el('input', { name: 'source', value: '/console', required: true })),
      el('label', {}, 'Id', el('input', { name: 'id', placeholder: 'generated when empty' })), el('label', {}, 'Partition key', el('input', { name: 'key' }))),
    el('p', {}, el('label', {}, 'Data (JSON)', el('textarea', { name: 'data', rows: 8, cols: 70 }, '{}'))),
    el('button', { type: 'submit' }, 'Send'));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const f = form.elements;
    let data;
    try { data = JSON.parse(f.data.value || 'null'); } catch (e) { result.replaceChildren(problem(new Error(`data is not JSON: ${e.message}`))); return; }
    const event = { specversion: '1.0', id: f.id.value || crypto.randomUUID(), source: f.source.value, type: f.type.value, datacontenttype: 'application/json', data };
    if (f.key.value) event.partitionkey = f.key.value;
    try {
      const r = await api(`/streams/${encodeURIComponent(f.stream.value)}/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
      result.replaceChildren(el('p', { role: 'status' }, `Appended ${event.id}: ${JSON.stringify(r)}`));
    } catch (e) { result.replaceChildren(problem(e)); }
  });
  show(el('h1', {}, 'Produce a test event'), form, result);
}

async function route() {
  timers.forEach(clearInterval); timers = [];
  const [page, ...args] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (page === 'stream') await streamPage(args[0]);
    else if (page === 'groups') await groupsPage();
    else if (page === 'group') await groupPage(args[0], args[1]);
    else if (page === 'deadletters') await deadLettersPage(args[0], args[1]);
    else if (page === 'functions') await functionsPage();
    else if (page === 'produce') producePage();
    else await streamsPage();
  } catch (e) { show(problem(e)); }
}

window.addEventListener('hashchange', route);
route();
