// The run page: polls the run's JSON for new and changed trials (only
// those from the first unfinished one on), redraws the plots when the
// journal changed, keeps the trials table sorted and filtered.
'use strict';
const main = document.getElementById('run');
const api = main.dataset.api, plotsApi = main.dataset.plots, logApi = main.dataset.log;
const trials = [];
// Rows drawn per page of the table: a page of a long run draws in well
// under a second; the filter and the sort reach every trial.
const PAGE = 500;
let first = 0;
let since = 0, plotted = -1, lastPlot = 0, sortKey = 'id', sortDesc = false, renderPending = false;

function summary(s) {
  const rows = [
    ['status', `<span class="status-${esc(s.status)}">${esc(s.status)}</span>${s.error ? ' — ' + esc(s.error) : ''}`],
    ['strategy', esc(s.strategy)], ['space', esc(s.space)], ['estimator', esc(s.estimator)], ['budget', esc(s.budget)],
    ['trials', `<span id="trial-count">${s.trials}</span>${s.budget_trials ? ' of ' + s.budget_trials : ''} (${s.ok} ok, ${s.failed} failed, ${s.invalid} invalid, ${s.pending} pending)`],
    ['best so far', s.best == null ? '—' : `<span id="best">${num(s.best, 4)}</span> (trial ${s.best_trial}) <code>${esc(s.best_arch)}</code>`],
    ['elapsed', duration(s.elapsed)],
  ];
  if (s.recommendation) rows.push(['recommended by the strategy', `<code>${esc(s.recommendation)}</code>`]);
  document.getElementById('summary').innerHTML = rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('');
}

function value(t, key) {
  const v = t[key];
  return v == null ? (typeof trials[0]?.[key] === 'string' ? '' : -Infinity) : v;
}

function render() {
  renderPending = false;
  const text = document.getElementById('filter').value.trim().toLowerCase();
  const status = document.getElementById('status-filter').value;
  let shown = trials.filter(t => t && (!status || t.status === status) &&
    (!text || String(t.id) === text || t.arch.toLowerCase().includes(text) || (t.reason || '').toLowerCase().includes(text)));
  shown.sort((a, b) => {
    const x = value(a, sortKey), y = value(b, sortKey);
    const c = x < y ? -1 : x > y ? 1 : a.id - b.id;
    return sortDesc ? -c : c;
  });
  const total = shown.length;
  first = Math.min(first, Math.max(0, total - 1) - (Math.max(0, total - 1) % PAGE));
  shown = shown.slice(first, first + PAGE);
  document.querySelector('#trials tbody').innerHTML = shown.map(t =>
    `<tr class="trial ${esc(t.status)}"><td class="num">${t.id}</td><td>${esc(t.status)}</td><td class="num">${num(t.objective, 4)}</td>` +
    `<td class="num">${num(t.cost, 1)}</td><td class="num">${big(t.params)}</td><td class="num">${big(t.flops)}</td>` +
    `<td class="num">${t.fidelity == null ? '' : num(t.fidelity, 2)}</td>` +
    `<td>${t.reason ? '<span class="reason">' + esc(t.reason) + '</span> ' : ''}<code>${esc(t.arch)}</code>${t.reused_from == null ? '' : ' <span class="muted">(repeat of ' + t.reused_from + ')</span>'}</td></tr>`).join('');
  document.getElementById('shown').textContent = `${total} of ${trials.length} trials` + (total > PAGE ? `, rows ${first + 1}–${first + shown.length}` : '');
  document.getElementById('prev').disabled = first === 0;
  document.getElementById('next').disabled = first + PAGE >= total;
  document.querySelectorAll('#trials th[data-key]').forEach(th => {
    th.classList.toggle('sorted-asc', th.dataset.key === sortKey && !sortDesc);
    th.classList.toggle('sorted-desc', th.dataset.key === sortKey && sortDesc);
  });
}
function scheduleRender() { if (!renderPending) { renderPending = true; setTimeout(render, 0); } }

async function plots() {
  const p = await getJson(plotsApi);
  const put = (id, svg, none) => { document.getElementById(id).innerHTML = svg || `<p class="muted">${none}</p>`; };
  put('plot-best', p.best, 'No finished trial yet.');
  put('plot-params', p.params, 'No parameter counts recorded.');
  put('plot-flops', p.flops, 'No FLOPs recorded.');
  put('plot-curves', p.curves, 'No learning curves: this estimator records none.');
  put('cells', p.cells.join(''), 'No architecture yet.');
  const r = await fetch(logApi, { cache: 'no-store' });
  const log = r.ok ? await r.text() : '';
  document.getElementById('log').textContent = log || 'The strategy has logged nothing (its messages are kept in the run folder, strategy.log).';
  // The version drawn (maybe older than asked for: then asked again).
  plotted = p.version;
  lastPlot = Date.now();
}

async function tick() {
  let delay = 1000;
  try {
    const d = await getJson(`${api}?since=${since}`);
    for (const t of d.trials) trials[t.id] = t;
    // How many answers brought trials: a page that updates without reloading counts up.
    if (d.trials.length) main.dataset.updates = (Number(main.dataset.updates) || 0) + 1;
    since = d.next;
    summary(d.summary);
    scheduleRender();
    // Plots cost more than rows: at most every two seconds while a run goes on.
    if (d.version !== plotted && Date.now() - lastPlot > 2000) await plots();
    else if (d.version !== plotted) delay = 500;
    if (d.summary.status !== 'running' && d.version === plotted) delay = 5000;
  } catch (e) {
    document.getElementById('summary').innerHTML = `<tr><th>error</th><td>${esc(e.message)}</td></tr>`;
    delay = 3000;
  }
  setTimeout(tick, delay);
}

document.querySelectorAll('#trials th[data-key]').forEach(th => th.addEventListener('click', () => {
  if (sortKey === th.dataset.key) sortDesc = !sortDesc; else { sortKey = th.dataset.key; sortDesc = sortKey === 'objective'; }
  first = 0;
  scheduleRender();
}));
document.getElementById('filter').addEventListener('input', () => { first = 0; scheduleRender(); });
document.getElementById('status-filter').addEventListener('change', () => { first = 0; scheduleRender(); });
document.getElementById('prev').addEventListener('click', () => { first = Math.max(0, first - PAGE); scheduleRender(); });
document.getElementById('next').addEventListener('click', () => { first += PAGE; scheduleRender(); });
tick();
