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
const enc = encodeURIComponent;
const countNames = [['handled', 'Handled'], ['failures', 'Failures'], ['retries', 'Retries'], ['deadLettered', 'Dead-lettered'], ['coldStarts', 'Cold starts']];
const sumCounts = list => list.filter(Boolean).reduce((a, c) => { a ??= {}; for (const [k] of countNames) a[k] = (a[k] ?? 0) + c[k]; return a; }, null);
const age = at => { if (!at) return '-'; const s = Math.max(0, (Date.now() - Date.parse(at)) / 1000); return s < 90 ? `${s.toFixed(0)} s ago` : s < 5400 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`; };
const seconds = span => { const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+)/.exec(span ?? ''); return m ? ((+(m[1] ?? 0) * 24 + +m[2]) * 60 + +m[3]) * 60 + +m[4] : null; };

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
  const container = el('div', { id: 'stream-list' });
  let before = null;
  const load = async () => {
    const streams = await api('/streams');
    const now = Date.now();
    const rate = s => {
      const was = before?.totals.get(s.name);
      return was === undefined ? '...' : `${fmt(Math.round((s.endOffsets.reduce((a, b) => a + b, 0) - was) * 1000 / (now - before.at)))}/s`;
    };
    container.replaceChildren(streams.length === 0 ? el('p', { class: 'muted' }, 'No streams yet.') : table(
      ['Stream', { title: 'Partitions', num: true }, 'Kind', 'Retention', { title: 'Events', num: true }, { title: 'Bytes', num: true }, { title: 'Produce rate', num: true }, 'End offsets'],
      streams.map(s => [el('a', { href: `#/stream/${enc(s.name)}` }, s.name), s.partitions, s.kind, s.retention, fmt(s.events), fmt(s.bytes), rate(s), s.endOffsets.join(', ')])));
    before = { at: now, totals: new Map(streams.map(s => [s.name, s.endOffsets.reduce((a, b) => a + b, 0)])) };
  };
  await load();
  show(el('h1', {}, 'Streams'), el('p', { class: 'muted' }, 'Produce rate: events appended per second since the previous look (every 5 s).'), container);
  timers.push(setInterval(() => load().catch(e => container.replaceChildren(problem(e))), 5000));
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
    ['Stream', 'Group', 'Kind', { title: 'Partitions', num: true }, { title: 'Held now', num: true }, { title: 'Handled', num: true }, ''],
    groups.map(g => [g.stream, el('a', { href: `#/group/${encodeURIComponent(g.stream)}/${encodeURIComponent(g.group)}` }, g.group), g.kind, g.partitions, g.consumption === 'queue' ? '-' : g.owned, g.counts ? fmt(g.counts.handled) : '-',
      el('a', { href: `#/deadletters/${encodeURIComponent(g.stream)}/${encodeURIComponent(g.group)}` }, 'dead letters')])));
}

const palette = ['#0969da', '#bf3989', '#1a7f37', '#bc4c00', '#8250df', '#0598bc', '#9a6700', '#cf222e'];

// Lag over time, one line per partition (colours in the legend) and the total as a thicker line.
function drawLag(canvas, series) {
  const ctx = canvas.getContext('2d');
  canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight;
  const values = series.flatMap(x => x.values);
  const max = Math.max(1, ...values);
  const n = Math.max(...series.map(x => x.values.length));
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  series.forEach((line, li) => {
    ctx.strokeStyle = ctx.fillStyle = line.color;
    ctx.lineWidth = line.total ? 2.5 : 1.5;
    ctx.beginPath();
    line.values.forEach((v, i) => { const x = n < 2 ? 2 : i * (canvas.width - 60) / (n - 1) + 2; const y = canvas.height - 4 - v * (canvas.height - 22) / max; i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
    if (n === 1) ctx.fillRect(2, canvas.height - 6 - line.values[0] * (canvas.height - 22) / max, 4, 4);
    ctx.fillText(line.label, canvas.width - 54, 14 + li * 13);
  });
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--muted');
  ctx.fillText(`max ${fmt(max)}`, 6, 12);
}

function countsLine(counts) {
  return el('p', { id: 'counts' }, counts
    ? countNames.map(([k, title]) => `${title} ${fmt(counts[k])}`).join(' · ')
    : el('span', { class: 'muted' }, 'Nothing counted yet (counts are kept with checkpoints).'));
}

async function groupPage(stream, group) {
  const path = `/streams/${enc(stream)}/groups/${enc(group)}`;
  let rows = await api(path);
  const queue = rows.length > 0 && 'settledBelow' in rows[0];
  const lagNow = el('strong', { id: 'total-lag' }, '...');
  const canvas = el('canvas', { id: 'lag-chart', 'aria-label': 'lag over time, per partition and in total' });
  const history = { total: [], partitions: new Map() };
  const partitions = el('div', { id: 'partitions' });
  const counts = el('div');
  const lease = r => r.lease === 'leased' && seconds(r.leaseDuration) ? `leased (${seconds(r.leaseDuration)} s lease: free within ${seconds(r.leaseDuration)} s if ${r.owner ?? 'its owner'} stops)` : r.lease;
  const render = () => {
    counts.replaceChildren(countsLine(sumCounts(rows.map(r => r.counts))));
    partitions.replaceChildren(queue
      ? table([{ title: 'Partition', num: true }, { title: 'End offset', num: true }, { title: 'Settled below', num: true }, { title: 'Unsettled', num: true }, { title: 'Locked', num: true }, { title: 'Waiting', num: true }, { title: 'Redelivered', num: true }, 'Owners', 'Oldest unsettled'],
        rows.map(r => [r.partition, fmt(r.endOffset), r.settledBelow ?? '-', fmt(r.unsettled), r.locked, r.waiting, r.redelivered, r.owners.join(', ') || '-', r.oldestUnsettledAt ?? '-']))
      : table([{ title: 'Partition', num: true }, { title: 'Checkpoint', num: true }, { title: 'End offset', num: true }, { title: 'Lag', num: true }, 'Oldest unhandled', 'Owner', 'Lease', 'Checkpointed'],
        rows.map(r => [r.partition, r.checkpoint ?? '-', fmt(r.endOffset), fmt(r.lag), r.lag > 0 ? `appended ${age(r.oldestUnhandledAt)}` : '-', r.owner ?? '-', lease(r), age(r.checkpointedAt)])));
  };
  const poll = async () => {
    try {
      const lag = await api(`${path}/lag${queue ? '?consumption=queue' : ''}`);
      const push = (list, v) => { list.push(v); if (list.length > 150) list.shift(); };
      push(history.total, lag.totalLag);
      for (const p of lag.partitions) {
        if (!history.partitions.has(p.partition)) history.partitions.set(p.partition, history.total.slice(0, -1).map(() => 0));
        push(history.partitions.get(p.partition), p.lag);
      }
      lagNow.textContent = fmt(lag.totalLag);
      const lines = [...history.partitions].map(([p, values], i) => ({ label: `p${p}`, values, color: palette[i % palette.length] }));
      drawLag(canvas, lines.length === 1 ? lines : [{ label: 'total', values: history.total, color: getComputedStyle(document.body).getPropertyValue('--fg'), total: true }, ...lines]);
      rows = await api(path); render(); // owners, leases, checkpoints and counts, live
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
      const plan = await api(`${path}/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, dryRun }) });
      result.replaceChildren(el('p', {}, dryRun ? 'Preview (nothing changed):' : 'Reset applied:'), table([{ title: 'Partition', num: true }, { title: 'From', num: true }, { title: 'To', num: true }, { title: 'Lag before', num: true }, { title: 'Lag after', num: true }],
        plan.partitions.map(p => [p.partition, p.from, p.to, fmt(p.lagBefore), fmt(p.lagAfter)])));
      if (!dryRun) poll();
    } catch (e) { result.replaceChildren(problem(e)); }
  }
  render();
  show(el('h1', {}, `Group ${group} on ${stream}`), el('p', {}, 'Total lag: ', lagNow, queue ? ' (unsettled events: queue consumption)' : ''), canvas, counts, partitions,
    el('p', {}, el('a', { href: `#/deadletters/${enc(stream)}/${enc(group)}` }, 'Dead letters')),
    queue ? el('p', { class: 'muted' }, 'A queue group cannot be reset; deleting it makes it consume the stream from its start.') : [el('h2', {}, 'Reset'), reset, result]);
  poll();
  timers.push(setInterval(poll, 2000));
}

async function deadLettersPage(stream, group) {
  const path = `/streams/${enc(stream)}/groups/${enc(group)}/deadletters`;
  const result = el('div', { id: 'replay-result' });
  const list = el('div', { id: 'letters' });
  const filter = el('form', { class: 'bar', id: 'letter-filter' },
    el('label', {}, 'Type', el('input', { name: 'type', size: 28, placeholder: 'every type' })),
    el('button', { type: 'submit' }, 'Filter'));
  const replay = async body => {
    try {
      const r = await api(`${path}/replay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      result.replaceChildren(el('p', { role: 'status' }, `Replayed ${r.results.filter(x => x.to).length} of ${r.results.length}.`), table(['Id', 'Result'], r.results.map(x => [x.id, x.to ? `appended to ${x.to}` : (x.note ?? 'skipped')])));
    } catch (e) { result.replaceChildren(problem(e)); }
  };
  const load = async () => {
    const type = filter.elements.type.value;
    const letters = await api(type ? `${path}?type=${enc(type)}` : path);
    const what = type ? `the ${letters.length} dead letters of type ${type}` : `all ${letters.length} dead letters`;
    list.replaceChildren(...(letters.length === 0 ? [el('p', { class: 'muted' }, type ? `No dead letters of type ${type}.` : 'No dead letters.')] : [
      el('p', {}, el('button', { id: 'replay-all', onclick: () => confirm(`Replay ${what} to ${stream}?`) && replay(type ? { type } : {}) }, type ? `Replay the ${letters.length} shown` : 'Replay all')),
      table(['Id', 'Type', 'Key', { title: 'Attempts', num: true }, 'Error', 'From', ''],
        letters.map(l => [l.id, l.type, l.key ?? '', l.attempts, l.error, `${l.source.stream} ${l.source.partition}/${l.source.offset}`, el('button', { onclick: () => replay({ id: l.id }) }, 'Replay')]))]));
  };
  filter.addEventListener('submit', ev => { ev.preventDefault(); load().catch(e => list.replaceChildren(problem(e))); });
  await load();
  show(el('h1', {}, `Dead letters of ${group} on ${stream}`), filter, list, result);
}

async function functionsPage() {
  const container = el('div', { id: 'function-list' });
  const load = async () => {
    const [seen, groups] = await Promise.all([api('/scaledobjects'), api('/groups')]);
    // A queue group keeps its counts in its queue state: read them from its description.
    await Promise.all(groups.filter(g => g.consumption === 'queue').map(async g => { g.counts = sumCounts((await api(`/streams/${enc(g.stream)}/groups/${enc(g.group)}`)).map(r => r.counts)); }));
    const scaled = new Map(seen.map(s => [`${s.stream}/${s.consumerGroup}`, s]));
    const rows = groups.map(g => ({ g, s: scaled.get(`${g.stream}/${g.group}`) }));
    for (const s of seen) if (!groups.some(g => g.stream === s.stream && g.group === s.consumerGroup)) rows.push({ g: { stream: s.stream, group: s.consumerGroup, kind: s.consumption === 'queue' ? 'queue' : '(not run yet)' }, s });
    container.replaceChildren(rows.length === 0 ? el('p', { class: 'muted' }, 'No function has run or been scaled yet.') : table(
      ['Function (group)', 'Stream', 'Kind', { title: 'Instances', num: true }, { title: 'Lag', num: true }, ...countNames.map(([, title]) => ({ title, num: true })), ''],
      rows.map(({ g, s }) => [
        el('a', { href: `#/group/${enc(g.stream)}/${enc(g.group)}` }, g.group), g.stream, g.kind,
        s ? `${s.desiredReplicas}${s.active ? '' : ' (idle)'}` : '-', s ? fmt(s.lag) : '-',
        ...countNames.map(([k]) => g.counts ? fmt(g.counts[k]) : '-'),
        el('span', {}, g.kind === 'materializer' ? [el('a', { href: `#/table/${enc(g.stream)}/${enc(g.group)}` }, 'table'), ' '] : '',
          el('a', { href: `#/deadletters/${enc(g.stream)}/${enc(g.group)}` }, 'dead letters'))])));
  };
  await load();
  show(el('h1', {}, 'Functions'),
    el('p', { class: 'muted' }, 'One row per consumer group (a function\'s group), refreshed every 5 s. Instances are the scaler\'s view (what KEDA or faas dev was last told); counts are kept with the checkpoints, so they outlive the instances.'),
    container);
  timers.push(setInterval(() => load().catch(e => container.replaceChildren(problem(e))), 5000));
}

async function tablePage(stream, group) {
  const results = el('div', { id: 'entries' });
  const form = el('form', { class: 'bar', id: 'lookup' },
    el('label', {}, 'Key or prefix', el('input', { name: 'text', size: 30, placeholder: 'empty: every key' })),
    el('label', {}, 'Match', el('select', { name: 'match' }, el('option', { value: 'prefix' }, 'keys starting with it'), el('option', { value: 'key' }, 'exactly this key'))),
    el('label', {}, 'Page size', el('input', { name: 'limit', value: 50, size: 4 })),
    el('button', { type: 'submit' }, 'Look up'));
  const path = `/streams/${enc(stream)}/groups/${enc(group)}/state`;
  const pretty = v => el('pre', {}, JSON.stringify(v, null, 2));
  const load = async after => {
    const f = form.elements;
    try {
      if (f.match.value === 'key') {
        if (!f.text.value) { results.replaceChildren(problem(new Error('Enter the key to look up (or match keys starting with it).'))); return; }
        const e = await api(`${path}?key=${enc(f.text.value)}`);
        results.replaceChildren(table(['Key', { title: 'Partition', num: true }, 'Value'], [[e.key, e.partition, pretty(e.value)]]));
        return;
      }
      const q = new URLSearchParams({ limit: f.limit.value || 50 });
      if (f.text.value) q.set('prefix', f.text.value);
      if (after) q.set('after', after);
      const page = await api(`${path}?${q}`);
      results.replaceChildren(page.items.length === 0 ? el('p', { class: 'muted' }, 'No keys match.') : table(['Key', 'Value'], page.items.map(i => [i.key, pretty(i.value)])),
        page.next ? el('button', { id: 'next-keys', onclick: () => load(page.next) }, 'Next page') : el('p', { class: 'muted' }, 'End of the table.'));
    } catch (e) { results.replaceChildren(problem(e)); }
  };
  form.addEventListener('submit', ev => { ev.preventDefault(); load(); });
  show(el('h1', {}, `Table of ${group} (from ${stream})`),
    el('p', { class: 'muted' }, 'The committed state in storage (what a restarting instance restores): readable while the materializer is scaled to zero.'), form, results);
  load();
}

async function producePage() {
  const streams = await api('/streams');
  const result = el('div', { id: 'produce-result' });
  const contract = el('div', { id: 'contract' });
  const form = el('form', { id: 'produce' },
    el('p', {}, el('label', {}, 'Stream', el('select', { name: 'stream', required: true }, streams.map(s => el('option', { value: s.name }, s.name))))),
    el('p', { class: 'bar' }, el('label', {}, 'Type', el('input', { name: 'type', value: 'com.example.test', required: true })), el('label', {}, 'Source', el('input', { name: 'source', value: '/console', required: true })),
      el('label', {}, 'Id', el('input', { name: 'id', placeholder: 'generated when empty' })), el('label', {}, 'Partition key', el('input', { name: 'key' }))),
    el('p', {}, el('label', {}, 'Data (JSON)', el('textarea', { name: 'data', rows: 8, cols: 70 }, '{}'))),
    el('p', { class: 'bar' }, el('button', { type: 'button', id: 'check', onclick: () => check(true) }, 'Check against the contract'), el('button', { type: 'submit' }, 'Send')));
  const stream = () => form.elements.stream.value;
  const showContract = async () => {
    try {
      const c = await api(`/streams/${enc(stream())}/schema`);
      contract.replaceChildren(el('details', {}, el('summary', {}, `Contract: schema version ${c.version} (${c.format}), checked before sending`), el('pre', {}, c.schema)));
    } catch (e) { contract.replaceChildren(el('p', { class: 'muted' }, e.message)); }
  };
  const event = () => {
    const f = form.elements;
    let data;
    try { data = JSON.parse(f.data.value || 'null'); } catch (e) { throw new Error(`data is not JSON: ${e.message}`); }
    const e = { specversion: '1.0', id: f.id.value || crypto.randomUUID(), source: f.source.value, type: f.type.value, datacontenttype: 'application/json', data };
    if (f.key.value) e.partitionkey = f.key.value;
    return e;
  };
  // Checks the event as an append would (schema, if the stream has one); true when it may be sent.
  async function check(report) {
    try {
      const v = await api(`/streams/${enc(stream())}/events/validate`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event()) });
      if (!v.valid) { result.replaceChildren(el('div', { class: 'error', role: 'alert' }, el('p', {}, `Does not match schema version ${v.version}:`), el('ul', {}, v.errors.map(x => el('li', {}, x))))); return false; }
      if (report) result.replaceChildren(el('p', { role: 'status' }, v.version ? `Matches schema version ${v.version}.` : 'The stream has no contract: any JSON is accepted.'));
      return true;
    } catch (e) { result.replaceChildren(problem(e)); return false; }
  }
  form.elements.stream.addEventListener('change', showContract);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    if (!await check(false)) return;
    try {
      const e = event();
      const r = await api(`/streams/${enc(stream())}/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(e) });
      result.replaceChildren(el('p', { role: 'status' }, `Appended ${e.id}: ${JSON.stringify(r)}`));
    } catch (e) { result.replaceChildren(problem(e)); }
  });
  show(el('h1', {}, 'Produce a test event'), form, contract, result);
  if (streams.length) showContract();
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
    else if (page === 'table') await tablePage(args[0], args[1]);
    else if (page === 'produce') await producePage();
    else await streamsPage();
  } catch (e) { show(problem(e)); }
}

window.addEventListener('hashchange', route);
route();
