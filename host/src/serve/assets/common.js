// Shared by the pages: escaping and number formats.
'use strict';
function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function num(x, digits) { return x == null ? '' : Number(x).toFixed(digits); }
// Thousands separated by commas (toLocaleString is slow over thousands of cells).
function big(x) { return x == null ? '' : String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
function duration(s) {
  s = Math.round(s || 0);
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${sec}s` : `${sec}s`;
}
function href(prefix, name) { return prefix + '/' + name.split('/').map(encodeURIComponent).join('/'); }
async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}
