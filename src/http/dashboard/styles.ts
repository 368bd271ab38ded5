/** The dashboard's stylesheet, served as /admin/dashboard.css. */
export const DASHBOARD_CSS = `:root {
  --bg: #0e1217;
  --card: #161c24;
  --line: #253041;
  --text: #e4eaf1;
  --muted: #8794a6;
  --blue: #5b9dff;
  --green: #3fcf8e;
  --red: #f0616d;
  --amber: #f5b94a;
  --violet: #a98bfa;
  color-scheme: dark;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #0b0f14; padding: 1px 5px; border-radius: 4px; }
.muted { color: var(--muted); }

.bar { display: flex; align-items: center; justify-content: space-between; height: 48px; padding: 0 20px; border-bottom: 1px solid var(--line); background: #121820; }
.brand { font-weight: 600; letter-spacing: .2px; display: flex; align-items: center; gap: 8px; }
.brand .muted { font-weight: 400; }
.logo { width: 14px; height: 14px; border-radius: 4px; background: linear-gradient(135deg, var(--blue), var(--violet)); }
.meta { display: flex; align-items: center; gap: 14px; font-size: 13px; }
.pill { border: 1px solid var(--line); border-radius: 999px; padding: 2px 10px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.live { display: inline-flex; align-items: center; gap: 6px; color: var(--green); }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; box-shadow: 0 0 0 3px rgba(63, 207, 142, .18); }
.live.stale { color: var(--amber); }
button { font: inherit; cursor: pointer; }
button.link { background: none; border: 0; color: var(--muted); padding: 0; }
button.link:hover { color: var(--text); }

main { padding: 14px 20px 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
.card h2 { margin: 0 0 8px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .6px; }

.notice { max-width: 440px; margin: 12vh auto 0; padding: 24px 26px; }
.notice h1 { margin: 0 0 8px; font-size: 20px; }
.notice p { color: var(--muted); margin: 0 0 16px; }
.notice label { display: block; font-size: 12px; color: var(--muted); margin-bottom: 6px; }
.notice input { width: 100%; padding: 9px 11px; border-radius: 7px; border: 1px solid var(--line); background: #0b0f14; color: var(--text); font: inherit; }
.notice input:focus { outline: 2px solid var(--blue); outline-offset: 1px; }
.notice button { margin-top: 4px; padding: 9px 16px; border: 0; border-radius: 7px; background: var(--blue); color: #fff; font-weight: 600; }
.notice .error { color: var(--red); min-height: 1.4em; margin: 8px 0 4px; }

.tiles { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px 11px; }
.tile .label { font-size: 12px; color: var(--muted); }
.tile .value { font-size: 28px; font-weight: 650; letter-spacing: -.5px; font-variant-numeric: tabular-nums; margin: 2px 0 1px; }
.tile .sub { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#tile-connections .value { color: var(--blue); }
#tile-online .value { color: var(--green); }
#tile-events .value { color: var(--violet); }

.charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px; margin-top: 12px; }
.chart { position: relative; height: 222px; }

.lower { display: grid; grid-template-columns: 1.5fr 1fr 1fr; gap: 12px; margin-top: 12px; }
.scroll { height: 300px; overflow: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 12px; font-weight: 500; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 6px; position: sticky; top: -12px; background: var(--card); }
td { padding: 5px 6px; border-bottom: 1px solid #1d2531; }
td.name { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.num { text-align: right; }
td.bad { color: var(--red); font-weight: 600; }
.empty { margin: 10px 6px; }

.service { padding: 8px 0 10px; border-bottom: 1px solid #1d2531; }
.service:last-child { border-bottom: 0; }
.service .head { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.service .name { font-weight: 600; }
.service .figures { display: grid; grid-template-columns: repeat(4, auto); justify-content: space-between; margin-top: 6px; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.service .figures b { display: block; color: var(--text); font-size: 14px; font-weight: 600; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 2px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid; }
.badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.badge.closed { color: var(--green); border-color: rgba(63, 207, 142, .4); background: rgba(63, 207, 142, .1); }
.badge.open { color: var(--red); border-color: rgba(240, 97, 109, .45); background: rgba(240, 97, 109, .12); }
.badge.half_open { color: var(--amber); border-color: rgba(245, 185, 74, .45); background: rgba(245, 185, 74, .12); }
.badge.isolated, .badge.unknown { color: var(--muted); border-color: var(--line); }

.group { margin-bottom: 12px; }
.group h3 { margin: 0 0 4px; font-size: 12px; font-weight: 500; color: var(--muted); display: flex; justify-content: space-between; }
.group h3 b { color: var(--text); font-variant-numeric: tabular-nums; }
.kv { display: flex; justify-content: space-between; padding: 3px 0; border-bottom: 1px dashed #1d2531; font-size: 13px; font-variant-numeric: tabular-nums; }
.kv span:first-child { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; color: #c3ccd8; }
.kv .nonzero { color: var(--amber); font-weight: 600; }
`;
