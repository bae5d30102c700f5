import { deflateRawSync } from 'node:zlib';
import { STATE_SEVERITY } from './cells.js';
import { FEATURE_LABELS, STATE_LABELS } from './labels.js';
import { COVERAGE_STATES, type CellSummary, type CoverageReport, type CoverageSummary } from './model.js';
import { cellWithoutItems, type Write } from './report-json.js';
import { InMemoryDetails, type DetailsSource } from './report-store.js';

/**
 * The report as one self-contained HTML page: per feature a heatmap of accounts × regions (header row
 * and account column stay in view), a cell's details on click or Enter, filters by feature, state,
 * region and account (ID, name or OU), the totals. No network: inline CSS and JS, and a
 * Content-Security-Policy that forbids every fetch.
 *
 * Built to stay small at 1,000 accounts × 17 regions: the grid travels as compact data the page
 * draws; the items of each account travel deflate-compressed and base64-encoded, and are
 * decompressed (`DecompressionStream`) only when one of the account's cells is opened. Every string
 * from the report is escaped in the markup or set with `textContent`.
 */
export async function writeHtmlReport(
  summary: CoverageSummary,
  details: DetailsSource | undefined,
  write: Write,
): Promise<void> {
  const title = `falcon-org coverage ${summary.generatedAt}`;
  const features = summary.scope.features;
  await write(`<!doctype html>
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
${summary.accounts
  .filter((a) => a.excluded === true)
  .map(
    (a) =>
      `<p class="excluded">Not covered: <code>${esc(a.id)}</code>${a.name !== undefined ? ` ${esc(a.name)}` : ''}: ${esc(a.reason?.text ?? '')}</p>\n`,
  )
  .join(
    '',
  )}<p>Generated ${esc(summary.generatedAt)} · ${summary.accounts.length} account(s)${unreadableCount(summary) > 0 ? `, ${unreadableCount(summary)} unreadable` : ''} · ${summary.regions.length} region(s) · schema ${esc(String(summary.schemaVersion))} · <strong id="verdict" class="${summary.allProtected ? 's-protected' : 's-unprotected'}">${summary.allProtected ? 'everything in scope is protected' : 'not everything is protected'}</strong></p>
</header>
<section id="totals"><h2>Totals (cells)</h2>
<table><thead><tr><th></th>${COVERAGE_STATES.map((s) => `<th scope="col">${STATE_LABELS[s]}</th>`).join('')}</tr></thead>
<tbody>
${features
  .map((f) => {
    const t = summary.totals[f];
    return `<tr><th scope="row">${esc(FEATURE_LABELS[f])}</th>${COVERAGE_STATES.map(
      (s) =>
        `<td class="s-${s}" data-total-feature="${esc(f)}" data-total-state="${s}">${esc(String(t[s]))}</td>`,
    ).join('')}</tr>`;
  })
  .join('\n')}
</tbody></table></section>
<form id="filters" onsubmit="return false">
<fieldset><legend>Features</legend>${features
    .map(
      (f) =>
        `<label><input type="checkbox" name="feature" value="${esc(f)}" checked> ${esc(FEATURE_LABELS[f])}</label>`,
    )
    .join(' ')}</fieldset>
<fieldset><legend>States</legend>${COVERAGE_STATES.map(
    (s) =>
      `<label class="s-${s}"><input type="checkbox" name="state" value="${s}" checked> ${STATE_LABELS[s]}</label>`,
  ).join(' ')}</fieldset>
<fieldset><legend>Accounts and regions</legend><input type="search" id="search" placeholder="account ID, name or OU" aria-label="Filter accounts by ID, name or OU"> <select id="region" aria-label="Region"><option value="">every region</option>${summary.regions
    .map((r) => `<option value="${esc(r)}">${esc(r)}</option>`)
    .join('')}</select></fieldset>
<p id="shown" aria-live="polite"></p>
</form>
<div id="layout">
<main>
${features
  .map(
    (f) =>
      `<section class="feature" data-feature="${esc(f)}"><h2>${esc(FEATURE_LABELS[f])}</h2><div class="scroll"><table class="heatmap"><thead></thead><tbody></tbody></table></div></section>`,
  )
  .join('\n')}
</main>
<aside id="details" hidden>
<button type="button" id="close" aria-label="Close">×</button>
<h2 id="details-title"></h2>
<p id="details-state"></p>
<h3>Reasons</h3>
<ul id="details-reasons"></ul>
<h3>Items</h3>
<p id="details-note" hidden></p>
<table id="details-items"><thead><tr><th>Item</th><th>State</th><th>Why</th><th>Facts</th></tr></thead><tbody></tbody></table>
</aside>
</div>
<script type="application/json" id="coverage-grid">`);
  await writeGridData(summary, write);
  await write(`</script>
<script>${SCRIPT}</script>
<script type="application/json" id="coverage-details">{`);
  // Each account's cells with their items, compressed on its own: opened on demand.
  if (details !== undefined) {
    const byAccount = new Map<string, CellSummary[]>();
    for (const c of summary.cells) {
      const list = byAccount.get(c.accountId);
      if (list) list.push(c);
      else byAccount.set(c.accountId, [c]);
    }
    let first = true;
    for (const [accountId, cells] of byAccount) {
      const items = await details.itemsOf(cells);
      const json = `[${cells
        .map((c, i) => `${JSON.stringify(cellWithoutItems(c)).slice(0, -1)},"items":${items[i] ?? '[]'}}`)
        .join(',')}]`;
      const packed = deflateRawSync(Buffer.from(json, 'utf8'), { level: 9 }).toString('base64');
      await write(`${first ? '' : ','}${JSON.stringify(accountId)}:"${packed}"`);
      first = false;
    }
  }
  await write(`}</script>
</body>
</html>
`);
}

/** The page as one string (small reports, tests): the report's items are its details. */
export async function renderHtmlReport(report: CoverageReport | CoverageSummary): Promise<string> {
  const parts: string[] = [];
  const details =
    report.cells.length > 0 && 'items' in (report.cells[0] ?? {})
      ? new InMemoryDetails(report as CoverageReport)
      : undefined;
  await writeHtmlReport(report, details, (chunk) => {
    parts.push(chunk);
  });
  return parts.join('');
}

function unreadableCount(summary: CoverageSummary): number {
  return summary.accounts.filter((a) => !a.readable && a.excluded !== true).length;
}

/** Rows of the grid written at once (a few hundred keep each piece small and the pieces few). */
const GRID_ROWS_PER_WRITE = 250;

/**
 * The grid as compact data, written piece by piece (never one string or one object of the whole grid):
 * accounts as [id, name, ou, readable, reason]; per feature its rows (worst first; an unreadable account
 * ranks with the worst), each [account index, cell per region], a cell [state index, protected,
 * applicable, flags] (flag 1: a connection this deployment does not own) or 0.
 */
async function writeGridData(summary: CoverageSummary, write: Write): Promise<void> {
  const out = (value: string): Promise<void> | void => write(scriptSafe(value));
  const index = new Map(summary.accounts.map((a, i) => [a.id, i]));
  const regions = summary.regions;
  const regionIndex = new Map(regions.map((r, i) => [r, i]));
  await out(
    `${JSON.stringify({
      features: summary.scope.features,
      labels: FEATURE_LABELS,
      states: COVERAGE_STATES,
      stateLabels: STATE_LABELS,
      regions,
      cells: summary.cells.length,
    }).slice(0, -1)},"accounts":[`,
  );
  for (let i = 0; i < summary.accounts.length; i += GRID_ROWS_PER_WRITE) {
    const rows = summary.accounts
      .slice(i, i + GRID_ROWS_PER_WRITE)
      .map((a) =>
        JSON.stringify([
          a.id,
          a.name ?? '',
          a.parent === undefined ? '' : (summary.ous?.[a.parent] ?? a.parent),
          a.readable ? 1 : 0,
          a.reason?.text ?? '',
        ]),
      );
    await out(`${i === 0 ? '' : ','}${rows.join(',')}`);
  }
  await out('],"grid":{');
  const unreadable = new Set(summary.accounts.filter((a) => !a.readable).map((a) => a.id));
  let firstFeature = true;
  for (const feature of summary.scope.features) {
    // The summary's cells are sorted by feature, account and region: each account's row is a run of them.
    const rows: { accountId: string; from: number; to: number; rank: [number, number, number] }[] = [];
    summary.cells.forEach((c, i) => {
      if (c.feature !== feature) return;
      let row = rows.at(-1);
      if (row === undefined || row.accountId !== c.accountId || row.to !== i) {
        row = { accountId: c.accountId, from: i, to: i, rank: [0, 0, 0] };
        rows.push(row);
      }
      row.to = i + 1;
      row.rank[0] = Math.max(row.rank[0], STATE_SEVERITY[c.state]);
      if (c.state !== 'protected' && c.state !== 'not-applicable') row.rank[1] += 1;
      row.rank[2] += c.counts.unprotected;
    });
    for (const row of rows) {
      // An account that could not be read at all ranks with the unprotected ones.
      if (unreadable.has(row.accountId)) row.rank = [STATE_SEVERITY.unprotected, Number.MAX_SAFE_INTEGER, 0];
    }
    rows.sort(
      (a, b) =>
        b.rank[0] - a.rank[0] ||
        b.rank[1] - a.rank[1] ||
        b.rank[2] - a.rank[2] ||
        a.accountId.localeCompare(b.accountId),
    );
    await out(`${firstFeature ? '' : ','}${JSON.stringify(feature)}:[`);
    firstFeature = false;
    for (let i = 0; i < rows.length; i += GRID_ROWS_PER_WRITE) {
      const text = rows.slice(i, i + GRID_ROWS_PER_WRITE).map((row) => {
        const cells: (number[] | 0)[] = regions.map(() => 0 as const);
        for (let k = row.from; k < row.to; k += 1) {
          const c = summary.cells[k];
          if (c === undefined) continue;
          cells[regionIndex.get(c.region) ?? 0] = [
            COVERAGE_STATES.indexOf(c.state),
            c.counts.protected,
            c.counts.total - c.counts.notApplicable,
            c.reasons.some((r) => r.code === 'connection-not-owned') ? 1 : 0,
          ];
        }
        return JSON.stringify([index.get(row.accountId) ?? -1, ...cells]);
      });
      await out(`${i === 0 ? '' : ','}${text.join(',')}`);
    }
    await out(']');
  }
  await out('}}');
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

/** JSON text that cannot end the script element or open a comment inside it (escaping is per character). */
function scriptSafe(json: string): string {
  return json
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
.scroll{overflow:auto;max-height:75vh;border:1px solid #dde;background:#fff}
section.feature{content-visibility:auto;contain-intrinsic-size:auto 80vh}
.heatmap{border-collapse:separate;border-spacing:0}
.heatmap th,.heatmap td{border:1px solid #f7f8fa;padding:.3rem .45rem;font-size:.8rem;white-space:nowrap}
.heatmap thead th{background:#e8ebf0;position:sticky;top:0;z-index:2}
.heatmap thead th:first-child{left:0;z-index:3}
.heatmap tbody th{text-align:left;background:#fff;font-weight:normal;position:sticky;left:0;z-index:1;max-width:22rem;overflow:hidden;text-overflow:ellipsis}
.heatmap .name{color:#555}.heatmap .ou{color:#888;font-size:.75rem}
.heatmap tr.unreadable th{color:var(--unk)}
.cell{cursor:pointer;text-align:center;color:#fff;font-weight:600;min-width:5.5rem}
.cell:focus,.cell.selected{outline:3px solid #1565c0;outline-offset:-3px}
.cell.s-protected{background:var(--ok)}.cell.s-partial{background:var(--part);color:#222}
.cell.s-unprotected{background:var(--bad)}.cell.s-unknown{background:var(--unk)}
.cell.s-not-applicable{background:var(--na);color:#455a64;font-weight:normal}
.cell.not-owned{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.35) 0 4px,transparent 4px 9px)}
.cell.filtered{opacity:.08;pointer-events:none}
.none{background:#eceff1}
.hidden-col{display:none}
label.s-protected{color:var(--ok)}label.s-partial{color:#b07800}label.s-unprotected{color:var(--bad)}label.s-unknown{color:var(--unk)}
#verdict.s-protected{color:var(--ok)}#verdict.s-unprotected{color:var(--bad)}
aside{width:34rem;max-width:45vw;background:#fff;border:1px solid #ccd;padding:.6rem 1rem;position:sticky;top:1rem;max-height:90vh;overflow:auto}
aside table{font-size:.8rem;width:100%;table-layout:fixed}aside td{overflow-wrap:anywhere}aside td,aside th{border-bottom:1px solid #eee;padding:.2rem .3rem;text-align:left;vertical-align:top}
aside details summary{cursor:pointer}
#close{float:right;border:none;background:none;font-size:1.4rem;cursor:pointer}
`;

const SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById('coverage-grid').textContent);
  var packed = null, opened = {};
  var details = document.getElementById('details');
  var LONG = 140;
  function text(el, value){ el.textContent = value; return el; }
  function make(tag, value){ return text(document.createElement(tag), value); }
  function h(s){ return String(s).replace(/[&<>"']/g, function(c){ return '&#' + c.charCodeAt(0) + ';'; }); }
  function rowHtml(feature, row){
    var a = data.accounts[row[0]] || ['?', '', '', 1, ''];
    var cells = '';
    for (var i = 1; i < row.length; i++) {
      var c = row[i], region = data.regions[i - 1];
      if (!c) { cells += '<td class="none" data-col="' + (i - 1) + '"></td>'; continue; }
      var state = data.states[c[0]], label = data.stateLabels[state];
      var summary = c[2] > 0 ? label + ' ' + c[1] + '/' + c[2] : label;
      var title = a[0] + ' ' + region + ': ' + label + (c[3] ? ' (a connection this deployment does not own)' : '');
      cells += '<td class="cell s-' + state + (c[3] ? ' not-owned' : '') + '" tabindex="0" role="button" data-col="' + (i - 1) + '" data-state="' + state + '" data-feature="' + feature + '" data-account="' + h(a[0]) + '" data-region="' + h(region) + '" title="' + h(title) + '">' + h(summary) + (c[3] ? ' *' : '') + '</td>';
    }
    return '<tr data-row="' + row[0] + '"' + (a[3] ? '' : ' class="unreadable"') + '><th scope="row" title="' + h(a[4] || '') + '"><code>' + h(a[0]) + '</code>' + (a[1] ? ' <span class="name">' + h(a[1]) + '</span>' : '') + (a[2] ? ' <span class="ou">' + h(a[2]) + '</span>' : '') + '</th>' + cells + '</tr>';
  }
  // The rows a screen shows first, the rest in slices after the first paint: a 1,000-account grid
  // appears at once and fills in behind it without freezing the page.
  var FIRST = 60, SLICE = 150;
  function draw(){
    data.features.forEach(function(feature){
      var section = document.querySelector('section.feature[data-feature="' + feature + '"]');
      section.querySelector('thead').innerHTML = '<tr><th scope="col">Account</th>' + data.regions.map(function(r, i){ return '<th scope="col" data-col="' + i + '">' + h(r) + '</th>'; }).join('') + '</tr>';
      section.querySelector('tbody').innerHTML = data.grid[feature].slice(0, FIRST).map(function(row){ return rowHtml(feature, row); }).join('');
    });
  }
  function fill(from){
    var more = false;
    data.features.forEach(function(feature){
      var rows = data.grid[feature].slice(from, from + SLICE);
      if (rows.length === 0) return;
      more = more || from + SLICE < data.grid[feature].length;
      document.querySelector('section.feature[data-feature="' + feature + '"] tbody').insertAdjacentHTML('beforeend', rows.map(function(row){ return rowHtml(feature, row); }).join(''));
    });
    if (more) setTimeout(function(){ fill(from + SLICE); }, 0);
    else { document.body.setAttribute('data-grid-complete', 'true'); if (filtering) apply(); }
  }
  var filtering = false;
  function unpack(accountId){
    if (opened[accountId]) return opened[accountId];
    if (packed === null) packed = JSON.parse(document.getElementById('coverage-details').textContent);
    var b64 = packed[accountId];
    if (!b64) return Promise.resolve(null);
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    opened[accountId] = new Response(stream).text().then(function(t){ return JSON.parse(t); });
    return opened[accountId];
  }
  function reasonCell(reasons, seen, itemId){
    var td = document.createElement('td');
    reasons.forEach(function(r){
      if (r.text.length <= LONG) { td.appendChild(make('span', r.text + ' ')); return; }
      if (seen[r.text]) { td.appendChild(make('span', r.text.slice(0, 60) + '… (as for ' + seen[r.text] + ') ')); return; }
      seen[r.text] = itemId;
      var d = document.createElement('details');
      d.appendChild(make('summary', r.text.slice(0, LONG - 20) + '…'));
      d.appendChild(make('p', r.text));
      td.appendChild(d);
    });
    return td;
  }
  function show(td){
    if (td.classList.contains('filtered')) return;
    document.body.removeAttribute('data-details');
    var accountId = td.getAttribute('data-account'), feature = td.getAttribute('data-feature'), region = td.getAttribute('data-region');
    document.querySelectorAll('.cell.selected').forEach(function(c){ c.classList.remove('selected'); });
    td.classList.add('selected');
    var account = data.accounts.filter(function(a){ return a[0] === accountId; })[0] || [accountId, ''];
    text(document.getElementById('details-title'), accountId + (account[1] ? ' (' + account[1] + ')' : '') + ' · ' + region + ' · ' + feature);
    text(document.getElementById('details-state'), 'loading…');
    document.getElementById('details-reasons').replaceChildren();
    document.querySelector('#details-items tbody').replaceChildren();
    var note = document.getElementById('details-note');
    note.hidden = true;
    details.hidden = false;
    unpack(accountId).then(function(cells){
      if (td !== document.querySelector('.cell.selected')) return;
      var cell = cells && cells.filter(function(c){ return c.feature === feature && c.region === region; })[0];
      if (!cell) {
        text(document.getElementById('details-state'), data.stateLabels[td.getAttribute('data-state')] || '');
        note.hidden = false;
        text(note, 'The items are not in this page: falcon-org status --latest --account ' + accountId + ' --json');
        document.body.setAttribute('data-details', 'missing');
        return;
      }
      var c = cell.counts;
      text(document.getElementById('details-state'), data.stateLabels[cell.state] + ' — ' + c.protected + ' protected, ' + (typeof c.partial === 'number' ? c.partial + ' partial, ' : '') + c.unprotected + ' unprotected, ' + c.unknown + ' unknown of ' + c.total);
      var list = document.getElementById('details-reasons');
      cell.reasons.forEach(function(r){ var li = make('li', r.text); li.setAttribute('data-code', r.code); list.appendChild(li); });
      var body = document.querySelector('#details-items tbody'), seen = {};
      cell.items.forEach(function(item){
        var tr = document.createElement('tr');
        tr.appendChild(make('td', item.id + (item.name ? ' (' + item.name + ')' : '')));
        tr.appendChild(make('td', data.stateLabels[item.state] || item.state));
        tr.appendChild(reasonCell(item.reasons, seen, item.id));
        tr.appendChild(make('td', Object.keys(item.facts).map(function(k){ return k + '=' + item.facts[k]; }).join(', ')));
        body.appendChild(tr);
      });
      document.body.setAttribute('data-details', 'shown');
    }, function(error){ text(document.getElementById('details-state'), 'The details could not be read: ' + error); });
  }
  function checked(name){
    var out = {};
    document.querySelectorAll('input[name=' + name + ']').forEach(function(i){ out[i.value] = i.checked; });
    return out;
  }
  function apply(){
    filtering = true;
    var features = checked('feature'), states = checked('state'), shown = 0;
    var query = document.getElementById('search').value.trim().toLowerCase();
    var region = document.getElementById('region').value, col = region === '' ? -1 : data.regions.indexOf(region);
    document.querySelectorAll('section.feature').forEach(function(s){ s.hidden = !features[s.getAttribute('data-feature')]; });
    document.querySelectorAll('.heatmap tbody tr').forEach(function(tr){
      var a = data.accounts[Number(tr.getAttribute('data-row'))] || [];
      var match = query === '' || [a[0], a[1], a[2]].some(function(v){ return String(v || '').toLowerCase().indexOf(query) >= 0; });
      tr.hidden = !match;
    });
    document.querySelectorAll('.heatmap [data-col]').forEach(function(el){
      el.classList.toggle('hidden-col', col >= 0 && Number(el.getAttribute('data-col')) !== col);
    });
    document.querySelectorAll('.cell').forEach(function(td){
      var tr = td.parentNode;
      var visible = features[td.getAttribute('data-feature')] && states[td.getAttribute('data-state')] && !tr.hidden && !td.classList.contains('hidden-col');
      td.classList.toggle('filtered', !visible);
      // A hidden cell is out of the tab order and ignores Enter.
      td.tabIndex = visible ? 0 : -1;
      if (visible) shown += 1;
    });
    text(document.getElementById('shown'), shown + ' of ' + data.cells + ' cells shown');
  }
  var main = document.querySelector('main');
  main.addEventListener('click', function(e){ var td = e.target.closest && e.target.closest('td.cell'); if (td) show(td); });
  main.addEventListener('keydown', function(e){
    var td = e.target.closest && e.target.closest('td.cell');
    if (td && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); show(td); }
  });
  document.getElementById('close').addEventListener('click', function(){ details.hidden = true; });
  document.querySelectorAll('#filters input, #filters select').forEach(function(i){ i.addEventListener(i.type === 'search' ? 'input' : 'change', apply); });
  draw();
  // Everything is shown at first: no pass over every cell before the grid appears.
  text(document.getElementById('shown'), data.cells + ' of ' + data.cells + ' cells shown');
  requestAnimationFrame(function(){ setTimeout(function(){ window.gridDrawnAt = performance.now(); document.body.setAttribute('data-grid', 'drawn'); fill(FIRST); }, 0); });
})();
`;
