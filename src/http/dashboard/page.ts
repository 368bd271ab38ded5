/**
 * The dashboard's HTML. No secret and no inline script or style (the /admin CSP allows 'self'
 * only); `apiEnabled` tells the page whether to ask for a key or say the API is disabled.
 */
export function dashboardHtml(apiEnabled: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>chat-gateway · operations</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/dashboard.css">
<script src="/admin/chart.umd.js" defer></script>
<script src="/admin/dashboard.js" defer></script>
</head>
<body data-api="${apiEnabled ? 'enabled' : 'disabled'}">
<header class="bar">
  <div class="brand"><span class="logo" aria-hidden="true"></span>chat-gateway <span class="muted">operations</span></div>
  <div class="meta" id="meta" hidden>
    <span class="pill" id="instance" title="instance id"></span>
    <span class="muted" id="uptime"></span>
    <span class="live" id="live">live</span>
    <button type="button" class="link" id="signout">Sign out</button>
  </div>
</header>
<main>
  <section class="card notice" id="disabled" hidden>
    <h1>Dashboard API disabled</h1>
    <p>No key is configured on this gateway. Set <code>ADMIN_API_KEY</code> (or <code>PUSH_API_KEYS</code>) and restart it.</p>
  </section>
  <form class="card notice" id="login" hidden>
    <h1>Operations dashboard</h1>
    <p>Enter the admin key: <code>ADMIN_API_KEY</code>, or a <code>PUSH_API_KEYS</code> key when no admin key is set. It is kept for this tab only.</p>
    <label for="key">Admin key</label>
    <input id="key" name="key" type="password" autocomplete="current-password" required>
    <p class="error" id="login-error" role="alert"></p>
    <button type="submit">Open dashboard</button>
  </form>
  <div id="dashboard" hidden>
    <section class="tiles">
      <div class="tile" id="tile-connections"><div class="label">Connections</div><div class="value">–</div><div class="sub">sockets on this instance</div></div>
      <div class="tile" id="tile-online"><div class="label">Online users</div><div class="value">–</div><div class="sub">cluster-wide</div></div>
      <div class="tile" id="tile-rooms"><div class="label">Rooms</div><div class="value">–</div><div class="sub">chat rooms in use here</div></div>
      <div class="tile" id="tile-events"><div class="label">Events / s</div><div class="value">–</div><div class="sub">–</div></div>
      <div class="tile" id="tile-lag"><div class="label">Event-loop lag p99</div><div class="value">–</div><div class="sub">–</div></div>
      <div class="tile" id="tile-memory"><div class="label">Memory (RSS)</div><div class="value">–</div><div class="sub">–</div></div>
    </section>
    <section class="charts">
      <div class="card"><h2>Connections &amp; online users</h2><div class="chart"><canvas id="chart-connections"></canvas></div></div>
      <div class="card"><h2>Events per second</h2><div class="chart"><canvas id="chart-events"></canvas></div></div>
      <div class="card"><h2>Service latency p95 (ms)</h2><div class="chart"><canvas id="chart-latency"></canvas></div></div>
    </section>
    <section class="lower">
      <div class="card scroll">
        <h2>Events</h2>
        <table id="events">
          <thead><tr><th>event</th><th class="num">rate /s</th><th class="num">total</th><th class="num">errors</th></tr></thead>
          <tbody></tbody>
        </table>
        <p class="muted empty" id="events-empty">No client events yet.</p>
      </div>
      <div class="card scroll"><h2>Services</h2><div id="services"></div></div>
      <div class="card scroll"><h2>Limits &amp; disconnects</h2><div id="limits"></div></div>
    </section>
  </div>
</main>
</body>
</html>
`;
}
