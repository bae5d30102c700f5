import { cellSummary, featureGrid } from './grid.js';
import { FEATURE_LABELS, STATE_LABELS } from './labels.js';
import { COVERAGE_STATES, type CoverageReport } from './model.js';

/**
 * The report as one self-contained HTML page: per feature a heatmap of accounts × regions, a cell's
 * details on click (or Enter), filters by feature and state, the totals. No network: inline CSS and
 * JS, and a Content-Security-Policy that forbids every fetch. Every string from the report is
 * escaped in the markup; the details panel is filled with `textContent` from the embedded JSON.
 */
export function renderHtmlReport(report: CoverageReport): string {
  const title = `falcon-org coverage ${report.generatedAt}`;
  const features = report.scope.features;
  const totalsRows = features
    .map((f) => {
      const t = report.totals[f];
      return `<tr><th scope="row">${esc(FEATURE_LABELS[f])}</th>${COVERAGE_STATES.map(
        (s) =>
          `<td class="s-${s}" data-total-feature="${esc(f)}" data-total-state="${s}">${esc(String(t[s]))}</td>`,
      ).join('')}</tr>`;
    })
    .join('\n');
  const index = new Map(report.cells.map((c, i) => [c, i]));
  const sections = features
    .map((feature) => {
      const grid = featureGrid(report, feature);
      const head = `<tr><th scope="col">Account</th>${grid.regions.map((r) => `<th scope="col">${esc(r)}</th>`).join('')}</tr>`;
      const body = grid.rows
        .map((row) => {
          const name =
            row.accountName === undefined ? '' : ` <span class="name">${esc(row.accountName)}</span>`;
          const tds = grid.regions
            .map((region) => {
              const c = row.cells.get(region);
              if (c === undefined) return '<td class="none"></td>';
              // A stored report (status --latest --html) is read back from S3: its state is text too.
              const state = esc(c.state);
              const label = STATE_LABELS[c.state];
              return (
                `<td class="cell s-${state}" tabindex="0" role="button" data-index="${index.get(c) ?? -1}" ` +
                `data-state="${state}" data-feature="${esc(feature)}" data-account="${esc(c.accountId)}" ` +
                `data-region="${esc(region)}" title="${esc(`${c.accountId} ${region}: ${label}`)}">` +
                `${esc(cellSummary(c, label))}</td>`
              );
            })
            .join('');
          return `<tr><th scope="row"><code>${esc(row.accountId)}</code>${name}</th>${tds}</tr>`;
        })
        .join('\n');
      return (
        `<section class="feature" data-feature="${esc(feature)}"><h2>${esc(FEATURE_LABELS[feature])}</h2>` +
        `<div class="scroll"><table class="heatmap"><thead>${head}</thead><tbody>${body}</tbody></table></div></section>`
      );
    })
    .join('\n');
  const featureFilters = features
    .map(
      (f) =>
        `<label><input type="checkbox" name="feature" value="${esc(f)}" checked> ${esc(FEATURE_LABELS[f])}</label>`,
    )
    .join(' ');
  const stateFilters = COVERAGE_STATES.map(
    (s) =>
      `<label class="s-${s}"><input type="checkbox" name="state" value="${s}" checked> ${STATE_LABELS[s]}</label>`,
  ).join(' ');
  const unreadable = report.accounts.filter((a) => !a.readable).length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Falcon coverage</h1>
<p>Generated ${esc(report.generatedAt)} · ${report.accounts.length} account(s)${unreadable > 0 ? `, ${unreadable} unreadable` : ''} · ${report.regions.length} region(s) · schema ${report.schemaVersion} · <strong id="verdict" class="${report.allProtected ? 's-protected' : 's-unprotected'}">${report.allProtected ? 'everything in scope is protected' : 'not everything is protected'}</strong></p>
</header>
<section id="totals"><h2>Totals (cells)</h2>
<table><thead><tr><th></th>${COVERAGE_STATES.map((s) => `<th scope="col">${STATE_LABELS[s]}</th>`).join('')}</tr></thead>
<tbody>
${totalsRows}
</tbody></table></section>
<form id="filters" onsubmit="return false">
<fieldset><legend>Features</legend>${featureFilters}</fieldset>
<fieldset><legend>States</legend>${stateFilters}</fieldset>
<p id="shown" aria-live="polite"></p>
</form>
<div id="layout">
<main>
${sections}
</main>
<aside id="details" hidden>
<button type="button" id="close" aria-label="Close">×</button>
<h2 id="details-title"></h2>
<p id="details-state"></p>
<h3>Reasons</h3>
<ul id="details-reasons"></ul>
<h3>Items</h3>
<table id="details-items"><thead><tr><th>Item</th><th>State</th><th>Why</th><th>Facts</th></tr></thead><tbody></tbody></table>
</aside>
</div>
<script type="application/json" id="coverage-data">${jsonForScript(report)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that cannot end the script element or open a comment inside it. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const CSS = `
:root{--ok:#2e7d32;--part:#f9a825;--bad:#c62828;--unk:#6a1b9a;--na:#cfd8dc;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430}
body{margin:0;padding:1rem 1.5rem;background:#f7f8fa}
h1{margin:.2rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
header p{margin:.2rem 0 1rem;color:#444}
table{border-collapse:collapse}
#totals td,#totals th{padding:.25rem .6rem;border:1px solid #dde;text-align:right;background:#fff}
#totals th[scope=row]{text-align:left}
fieldset{display:inline-block;border:1px solid #ccd;margin:.2rem .6rem .2rem 0;padding:.3rem .6rem;background:#fff}
label{margin-right:.6rem;white-space:nowrap}
#layout{display:flex;gap:1rem;align-items:flex-start}
main{flex:1;min-width:0}
.scroll{overflow-x:auto}
.heatmap th,.heatmap td{border:2px solid #f7f8fa;padding:.35rem .5rem;font-size:.85rem;white-space:nowrap}
.heatmap thead th{background:#e8ebf0}
.heatmap tbody th{text-align:left;background:#fff;font-weight:normal}
.heatmap .name{color:#555}
.cell{cursor:pointer;text-align:center;color:#fff;font-weight:600;min-width:6rem}
.cell:focus,.cell.selected{outline:3px solid #1565c0;outline-offset:-3px}
.cell.s-protected{background:var(--ok)}.cell.s-partial{background:var(--part);color:#222}
.cell.s-unprotected{background:var(--bad)}.cell.s-unknown{background:var(--unk)}
.cell.s-not-applicable{background:var(--na);color:#455a64;font-weight:normal}
.cell.filtered{opacity:.08;pointer-events:none}
.none{background:#eceff1}
label.s-protected{color:var(--ok)}label.s-partial{color:#b07800}label.s-unprotected{color:var(--bad)}label.s-unknown{color:var(--unk)}
#verdict.s-protected{color:var(--ok)}#verdict.s-unprotected{color:var(--bad)}
aside{width:34rem;max-width:45vw;background:#fff;border:1px solid #ccd;padding:.6rem 1rem;position:sticky;top:1rem;max-height:90vh;overflow:auto}
aside table{font-size:.8rem;width:100%;table-layout:fixed}aside td{overflow-wrap:anywhere}aside td,aside th{border-bottom:1px solid #eee;padding:.2rem .3rem;text-align:left;vertical-align:top}
#close{float:right;border:none;background:none;font-size:1.4rem;cursor:pointer}
`;

const SCRIPT = `
(function(){
  var report = JSON.parse(document.getElementById('coverage-data').textContent);
  var labels = {protected:'protected',partial:'partial',unprotected:'unprotected','not-applicable':'n/a',unknown:'unknown'};
  var details = document.getElementById('details');
  function text(el, value){ el.textContent = value; return el; }
  function make(tag, value){ return text(document.createElement(tag), value); }
  function show(td){
    var cell = report.cells[Number(td.getAttribute('data-index'))];
    if (!cell) return;
    document.querySelectorAll('.cell.selected').forEach(function(c){ c.classList.remove('selected'); });
    td.classList.add('selected');
    var account = report.accounts.filter(function(a){ return a.id === cell.accountId; })[0];
    text(document.getElementById('details-title'), cell.accountId + (account && account.name ? ' (' + account.name + ')' : '') + ' · ' + cell.region + ' · ' + cell.feature);
    var c = cell.counts;
    text(document.getElementById('details-state'), labels[cell.state] + ' — ' + c.protected + ' protected, ' + c.unprotected + ' unprotected, ' + c.unknown + ' unknown of ' + c.total);
    var list = document.getElementById('details-reasons');
    list.replaceChildren();
    cell.reasons.forEach(function(r){ var li = make('li', r.text); li.setAttribute('data-code', r.code); list.appendChild(li); });
    var body = document.querySelector('#details-items tbody');
    body.replaceChildren();
    cell.items.forEach(function(item){
      var tr = document.createElement('tr');
      tr.appendChild(make('td', item.id + (item.name ? ' (' + item.name + ')' : '')));
      tr.appendChild(make('td', labels[item.state] || item.state));
      tr.appendChild(make('td', item.reasons.map(function(r){ return r.text; }).join(' ')));
      tr.appendChild(make('td', Object.keys(item.facts).map(function(k){ return k + '=' + item.facts[k]; }).join(', ')));
      body.appendChild(tr);
    });
    details.hidden = false;
  }
  document.querySelectorAll('.cell').forEach(function(td){
    td.addEventListener('click', function(){ show(td); });
    td.addEventListener('keydown', function(e){ if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); show(td); } });
  });
  document.getElementById('close').addEventListener('click', function(){ details.hidden = true; });
  function checked(name){
    var out = {};
    document.querySelectorAll('input[name=' + name + ']').forEach(function(i){ out[i.value] = i.checked; });
    return out;
  }
  function apply(){
    var features = checked('feature'), states = checked('state'), shown = 0;
    document.querySelectorAll('section.feature').forEach(function(s){ s.hidden = !features[s.getAttribute('data-feature')]; });
    document.querySelectorAll('.cell').forEach(function(td){
      var visible = features[td.getAttribute('data-feature')] && states[td.getAttribute('data-state')];
      td.classList.toggle('filtered', !visible);
      if (visible) shown += 1;
    });
    text(document.getElementById('shown'), shown + ' of ' + report.cells.length + ' cells shown');
  }
  document.querySelectorAll('#filters input').forEach(function(i){ i.addEventListener('change', apply); });
  apply();
})();
`;
