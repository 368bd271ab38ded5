/**
 * The dashboard's browser script, served as /admin/dashboard.js (plain ES2020, no build step;
 * written without backticks or backslashes so it can live in this template string).
 * Polls GET /admin/api/snapshot every 2 s with the key kept in sessionStorage, derives rates and
 * windowed latency from consecutive snapshots, and draws them with Chart.js.
 */
export const DASHBOARD_JS = `'use strict';
(function () {
  const KEY_STORAGE = 'chatgw.adminKey';
  const POLL_MS = 2000;
  const HISTORY_POINTS = 150;
  const FORCED_DISCONNECT_REASONS = ['flood', 'slow_consumer', 'idle', 'auth_expired'];
  const SERVICE_COLOURS = ['#5b9dff', '#f5b94a', '#3fcf8e', '#f0616d', '#a98bfa', '#4fd1e8'];
  const $ = (id) => document.getElementById(id);

  let key = sessionStorage.getItem(KEY_STORAGE);
  let previous = null;
  let timer = null;
  let charts = null;

  function show(id) {
    for (const other of ['disabled', 'login', 'dashboard']) $(other).hidden = other !== id;
    $('meta').hidden = id !== 'dashboard';
  }

  function askForKey(message) {
    stop();
    for (const chart of Object.values(charts || {})) chart.destroy();
    charts = null;
    key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    $('login-error').textContent = message || '';
    show('login');
    $('key').focus();
  }

  function stop() {
    clearTimeout(timer);
    timer = null;
    previous = null;
  }

  async function poll() {
    let res;
    try {
      res = await fetch('/admin/api/snapshot', { headers: { 'X-Admin-Key': key }, cache: 'no-store' });
    } catch (e) {
      return markStale('gateway unreachable');
    }
    if (res.status === 401) return askForKey('The admin key is required.');
    if (res.status === 403) return askForKey('That key was refused.');
    if (res.status === 404) {
      stop();
      return show('disabled');
    }
    if (!res.ok) return markStale('HTTP ' + res.status);
    render(await res.json());
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (key) timer = setTimeout(poll, POLL_MS);
  }

  function markStale(why) {
    $('live').textContent = why;
    $('live').classList.add('stale');
    schedule();
  }

  // Same estimate as the server's estimateQuantile (src/http/dashboard/snapshot.ts).
  function quantile(buckets, total, q) {
    if (total <= 0) return null;
    const rank = q * total;
    let lowerBound = 0;
    let lowerCount = 0;
    for (const b of buckets) {
      if (b.count >= rank) {
        const inBucket = b.count - lowerCount;
        return inBucket > 0 ? lowerBound + ((b.le_ms - lowerBound) * (rank - lowerCount)) / inBucket : b.le_ms;
      }
      lowerBound = b.le_ms;
      lowerCount = b.count;
    }
    return lowerBound;
  }

  /** p95 of the calls made between two snapshots, from the difference of their buckets. */
  function windowedP95(now, before) {
    if (!before) return now.p95_ms;
    const count = now.requests - before.requests;
    if (count <= 0) return null;
    const old = new Map(before.buckets.map((b) => [b.le_ms, b.count]));
    const delta = now.buckets.map((b) => ({ le_ms: b.le_ms, count: b.count - (old.get(b.le_ms) || 0) }));
    return quantile(delta, count, 0.95);
  }

  function render(s) {
    // A restarted or different instance starts its counters again: no rates across that.
    if (previous && (previous.instance_id !== s.instance_id || s.events_total < previous.events_total)) previous = null;
    const seconds = previous ? (Date.parse(s.timestamp) - Date.parse(previous.timestamp)) / 1000 : 0;
    const rate = (now, before) => (seconds > 0 && before !== undefined ? Math.max(0, now - before) / seconds : null);
    const eventsPerSecond = previous ? rate(s.events_total, previous.events_total) : null;
    const eventErrors = s.events.reduce((n, e) => n + e.errors, 0);

    show('dashboard');
    $('instance').textContent = s.instance_id;
    $('uptime').textContent = 'up ' + formatDuration(s.uptime_s);
    $('live').textContent = 'live';
    $('live').classList.remove('stale');

    tile('tile-connections', formatInt(s.connections));
    tile('tile-online', formatInt(s.online_users));
    tile('tile-rooms', formatInt(s.rooms));
    tile(
      'tile-events',
      eventsPerSecond === null ? '–' : formatRate(eventsPerSecond),
      formatInt(s.events_total) + ' total · ' + formatInt(eventErrors) + ' errors',
    );
    tile('tile-lag', formatMs(s.event_loop.lag_p99_ms) + ' ms', 'now ' + formatMs(s.event_loop.lag_ms) + ' ms');
    tile(
      'tile-memory',
      formatMiB(s.memory.rss_bytes),
      'heap ' + formatMiB(s.memory.heap_used_bytes) + ' / ' + formatMiB(s.memory.heap_total_bytes),
    );

    const previousEvents = new Map((previous ? previous.events : []).map((e) => [e.event, e.total]));
    renderEvents(s.events.map((e) => ({ ...e, rate: previous ? rate(e.total, previousEvents.get(e.event) || 0) : null })));
    renderServices(s.services);
    renderLimits(s);

    const previousServices = new Map((previous ? previous.services : []).map((v) => [v.service, v]));
    const latency = s.services.map((v) => ({
      service: v.service,
      p95: windowedP95(v, previous ? previousServices.get(v.service) : undefined),
    }));
    plot(new Date(s.timestamp), s, eventsPerSecond, latency);
    previous = s;
  }

  function tile(id, value, sub) {
    $(id).querySelector('.value').textContent = value;
    if (sub !== undefined) $(id).querySelector('.sub').textContent = sub;
  }

  function renderEvents(events) {
    const rows = events
      .slice()
      .sort((a, b) => (b.rate || 0) - (a.rate || 0) || b.total - a.total)
      .map((e) => {
        const errors = cell(formatInt(e.errors), 'num' + (e.errors > 0 ? ' bad' : ''));
        errors.title = Object.entries(e.outcomes).map(([o, n]) => o + ': ' + n).join(', ');
        const rate = cell(e.rate === null ? '–' : formatRate(e.rate), 'num');
        return row([cell(e.event, 'name'), rate, cell(formatInt(e.total), 'num'), errors]);
      });
    $('events').tBodies[0].replaceChildren(...rows);
    $('events-empty').hidden = events.length > 0;
  }

  function renderServices(services) {
    $('services').replaceChildren(
      ...services.map((v) => {
        const badge = el('span', 'badge ' + v.breaker, v.breaker.replace('_', '-'));
        badge.dataset.state = v.breaker;
        const box = el('div', 'service');
        box.dataset.service = v.service;
        box.append(
          div('head', [el('span', 'name', v.service), badge]),
          div('figures', [
            figure('calls', formatInt(v.requests)),
            figure('errors', formatInt(v.errors)),
            figure('p50', formatMs(v.p50_ms) + ' ms'),
            figure('p95', formatMs(v.p95_ms) + ' ms'),
          ]),
        );
        return box;
      }),
    );
  }

  function renderLimits(s) {
    const disconnects = Object.assign(Object.fromEntries(FORCED_DISCONNECT_REASONS.map((r) => [r, 0])), s.forced_disconnects);
    $('limits').replaceChildren(
      group('Rate-limit rejections', s.rate_limit_rejections),
      group('Forced disconnects', disconnects),
      group('Handshakes refused', s.handshakes_rejected),
    );
  }

  function group(title, counts) {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const total = entries.reduce((n, [, v]) => n + v, 0);
    const heading = el('h3', '', title);
    heading.append(el('b', '', formatInt(total)));
    const lines = entries.map(([name, n]) => div('kv', [el('span', '', name), el('span', n > 0 ? 'nonzero' : '', formatInt(n))]));
    if (lines.length === 0) lines.push(div('kv', [el('span', 'muted', 'none'), el('span', '', '0')]));
    return div('group', [heading, ...lines]);
  }

  function figure(label, value) {
    const box = el('span', '', label);
    box.prepend(el('b', '', value));
    return box;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const div = (className, children) => {
    const node = el('div', className);
    node.append(...children);
    return node;
  };
  const cell = (text, className) => el('td', className, text);
  const row = (cells) => {
    const tr = document.createElement('tr');
    tr.append(...cells);
    return tr;
  };

  function createCharts() {
    Chart.defaults.color = '#8794a6';
    Chart.defaults.borderColor = '#222b38';
    Chart.defaults.font.size = 11;
    const options = (integer) => ({
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      elements: { point: { radius: 0, hitRadius: 6 }, line: { cubicInterpolationMode: 'monotone', borderWidth: 2 } },
      spanGaps: true,
      scales: {
        x: { ticks: { maxTicksLimit: 5, maxRotation: 0 }, grid: { display: false } },
        y: { beginAtZero: true, ticks: { precision: integer ? 0 : undefined, maxTicksLimit: 5 } },
      },
      plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 8, boxHeight: 8, usePointStyle: true } } },
    });
    const line = (label, colour, fill) => ({ label, data: [], borderColor: colour, backgroundColor: colour + '22', fill });
    return {
      connections: new Chart($('chart-connections'), {
        type: 'line',
        data: { labels: [], datasets: [line('connections', '#5b9dff', true), line('online users', '#3fcf8e', false)] },
        options: options(true),
      }),
      events: new Chart($('chart-events'), {
        type: 'line',
        data: { labels: [], datasets: [line('events/s', '#a98bfa', true)] },
        options: options(false),
      }),
      latency: new Chart($('chart-latency'), { type: 'line', data: { labels: [], datasets: [] }, options: options(false) }),
    };
  }

  function plot(at, s, eventsPerSecond, latency) {
    if (typeof Chart === 'undefined') return;
    charts = charts || createCharts();
    const label = at.toLocaleTimeString([], { hour12: false });
    push(charts.connections, label, [s.connections, s.online_users]);
    push(charts.events, label, [eventsPerSecond]);
    const datasets = charts.latency.data.datasets;
    for (const { service } of latency) {
      if (datasets.some((d) => d.label === service)) continue;
      const colour = SERVICE_COLOURS[datasets.length % SERVICE_COLOURS.length];
      datasets.push({ label: service, data: charts.latency.data.labels.map(() => null), borderColor: colour, backgroundColor: colour });
    }
    const p95 = new Map(latency.map((l) => [l.service, l.p95]));
    push(charts.latency, label, datasets.map((d) => (p95.has(d.label) ? p95.get(d.label) : null)));
  }

  function push(chart, label, values) {
    chart.data.labels.push(label);
    chart.data.datasets.forEach((d, i) => d.data.push(values[i]));
    if (chart.data.labels.length > HISTORY_POINTS) {
      chart.data.labels.shift();
      for (const d of chart.data.datasets) d.data.shift();
    }
    chart.update('none');
  }

  const formatInt = (n) => Math.round(n).toLocaleString('en-US');
  const formatRate = (r) => (r < 10 ? r.toFixed(1) : formatInt(r));
  const formatMs = (ms) => (ms === null || ms === undefined ? '–' : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : formatInt(ms));
  const formatMiB = (bytes) => (bytes === null ? '–' : (bytes / 1048576).toFixed(bytes < 104857600 ? 1 : 0) + ' MiB');
  function formatDuration(s) {
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    return m > 0 ? m + 'm ' + (s % 60) + 's' : s + 's';
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const given = $('key').value.trim();
    if (!given) return;
    key = given;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('key').value = '';
    $('login-error').textContent = '';
    poll();
  });
  $('signout').addEventListener('click', () => askForKey(''));

  if (document.body.dataset.api !== 'enabled') show('disabled');
  else if (key) poll();
  else askForKey('');
})();
`;
