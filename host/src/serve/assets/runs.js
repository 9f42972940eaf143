// The runs page: every run's summary, refreshed every two seconds.
'use strict';
async function refresh() {
  try {
    const d = await getJson('/api/runs');
    const rows = d.runs.map(s => {
      const trials = s.budget_trials ? `${s.trials} / ${s.budget_trials}` : `${s.trials} (${esc(s.budget)})`;
      return `<tr class="run" data-name="${esc(s.name)}"><td><a href="${esc(href('/run', s.name))}">${esc(s.name)}</a></td>` +
        `<td class="status-${esc(s.status)}" title="${esc(s.error || '')}">${esc(s.status)}</td><td>${esc(s.strategy)}</td>` +
        `<td>${esc(s.space)}</td><td>${esc(s.estimator)}</td><td class="num trials">${trials}</td>` +
        `<td class="num">${s.best == null ? '—' : num(s.best, 4)}</td><td class="num">${duration(s.elapsed)}</td></tr>`;
    });
    document.querySelector('#runs tbody').innerHTML = rows.join('') || '<tr><td colspan="8" class="muted">no runs found</td></tr>';
    document.getElementById('benches').innerHTML = d.benches.map(b => `<li><a class="bench" href="${esc(href('/bench', b))}">${esc(b)}</a></li>`).join('') || '<li class="muted">none</li>';
    document.getElementById('updated').textContent = `${d.runs.length} runs, updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    document.getElementById('updated').textContent = `could not refresh: ${e.message}`;
  }
  setTimeout(refresh, 2000);
}
refresh();
