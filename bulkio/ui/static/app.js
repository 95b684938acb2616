// bulkio ui: the page's script. Plain JS, no build step: every action is one call to the page's
// JSON API (bulkio/ui/app.py), which calls the library. Nothing here decides what a value means.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
};
const fmt = (n) => (n === null || n === undefined ? '?' : Number(n).toLocaleString('en-US'));
const PAGE = 50;
// how a header was matched (bulkio.draft): the words bulkio map writes as comments
const HOW = {
  mapping: 'from the profile', header: 'bulkio header', key: 'key', label: 'label', slug: 'key',
  fuzzy: 'label (spacing/case)', synonym: 'synonym', similar: 'similar name — check',
  'foreign-id': "another CRM's ids: the key — check", chosen: 'your choice', recipe: 'from the recipe',
};

const state = {
  ws: null, sheet: null, step: 'open', objects: [], undo: false,
  grid: { offset: 0, only: '', code: '' }, dryJob: null, importJob: null,
  diffFilter: '', resultFilter: '', poll: null,
};

async function api(path, { method = 'GET', body, raw } = {}) {
  const opts = { method, headers: {} };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
  if (raw !== undefined) { opts.body = raw; opts.headers['Content-Type'] = 'application/octet-stream'; }
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers['Content-Type'] = 'application/json'; }
  const res = await fetch(path, opts);
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : { error: await res.text() };
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function say(text) { $('#status').textContent = text; }
function fail(err) {
  const box = $('#alert');
  box.textContent = '✖ ' + (err.message || err);
  box.hidden = false;
}
function clearAlert() { $('#alert').hidden = true; }
const guard = (fn) => async (...args) => { clearAlert(); try { await fn(...args); } catch (e) { fail(e); } };

const sheetPath = () => `/api/ws/${state.ws.id}/sheets/${state.sheet}`;
const currentSheet = () => state.ws?.sheets.find((s) => s.id === state.sheet);

// --- steps ---------------------------------------------------------------------------------------

function show(step) {
  state.step = step;
  for (const b of document.querySelectorAll('#steps button')) {
    if (b.dataset.step === step) b.setAttribute('aria-current', 'step'); else b.removeAttribute('aria-current');
  }
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== `step-${step}`;
  $('#main').focus();
  const load = { columns: loadColumns, values: loadValues, review: loadGrid, recipes: loadRecipes, import: showImportTarget }[step];
  if (load) guard(load)();
}

function enableSteps() {
  for (const b of document.querySelectorAll('#steps button')) b.disabled = !state.ws && b.dataset.step !== 'open';
}

// --- open ------------------------------------------------------------------------------------------

async function boot() {
  // the forms' handlers first, the state after: a click before /api/state answers (a slow CRM)
  // must not submit a form the browser's way (a page reload that drops the chosen file)
  const asked = api('/api/state');
  for (const b of document.querySelectorAll('#steps button')) b.addEventListener('click', () => show(b.dataset.step));
  $('#sheet-select').addEventListener('change', (e) => { state.sheet = e.target.value; state.grid.offset = 0; show(state.step); });
  $('#open-form').addEventListener('submit', guard(async (e) => {
    e.preventDefault();
    say('Opening…');
    await asked;
    const ws = await api('/api/open', { method: 'POST', body: { path: $('#open-path').value, object_type: $('#open-object').value } });
    opened(ws);
  }));
  $('#upload-form').addEventListener('submit', guard(async (e) => {
    e.preventDefault();
    const file = $('#upload-file').files[0];
    if (!file) throw new Error('choose a file to upload');
    const st = await asked;
    if (file.size > st.max_upload) throw new Error(`${file.name} is larger than the upload limit (${fmt(st.max_upload)} bytes)`);
    say(`Uploading ${file.name}…`);
    const q = new URLSearchParams({ name: file.name, object: $('#open-object').value });
    opened(await api(`/api/upload?${q}`, { method: 'POST', raw: file }));
  }));
  $('#options-form').addEventListener('submit', guard(async (e) => {
    e.preventDefault();
    await api(`${sheetPath()}/options`, { method: 'POST', body: { locale: $('#opt-locale').value, date_order: $('#opt-date-order').value, phone_region: $('#opt-phone-region').value } });
    say('Checking the file again with these options…');
    await loadColumns();
  }));
  wireReview();
  wireRuns();
  $('#recipe-form').addEventListener('submit', guard(async (e) => {
    e.preventDefault();
    const r = await api('/api/recipes', { method: 'POST', body: { ws: state.ws.id, sheet: state.sheet, name: $('#recipe-name').value } });
    say(`Recipe saved: ${r.path}`);
    renderRecipes(r.recipes);
  }));
  const st = await asked;
  state.objects = st.objects;
  state.undo = st.undo;
  $('#crm').textContent = `${st.crm === 'close' ? 'Close' : 'Lightfield'}${st.sandbox ? ' sandbox' : ''} at ${st.base_url}`;
  for (const o of st.objects) $('#open-object').append(el('option', { value: o, text: o }));
  const first = st.first || document.querySelector('meta[name="first-workspace"]').content;
  const ws = first && st.workspaces.find((w) => w.id === first);
  if (ws) opened(ws); else show('open');
  enableSteps();
}

function opened(ws) {
  state.ws = ws;
  state.sheet = ws.sheets[0].id;
  state.grid = { offset: 0, only: '', code: '' };
  state.dryJob = state.importJob = null;
  $('#diff-results').replaceChildren();
  $('#diff-progress').replaceChildren();
  $('#import-results').replaceChildren();
  $('#import-progress').replaceChildren();
  const pick = $('#sheet-select');
  pick.replaceChildren(...ws.sheets.map((s) => el('option', { value: s.id, text: `${s.sheet || ws.name} → ${s.object_type || '?'}` })));
  $('#sheet-pick').hidden = ws.sheets.length < 2;
  renderOpened(ws);
  enableSteps();
  say(`Opened ${ws.name}${ws.workbook ? ` (a workbook: ${ws.sheets.length} sheets, imported in order)` : ''}.`);
  startPolling();
  show(ws.sheets.length > 1 ? 'open' : 'columns');
}

function renderOpened(ws) {
  const rows = ws.sheets.map((s) => el('tr', {},
    el('td', { text: s.sheet || ws.name }),
    el('td', {}, objectSelect(s)),
    el('td', { text: s.detected }),
    el('td', { text: s.profile_name || '—' }),
    el('td', { class: 'rows-loaded', text: `${fmt(s.rows_loaded)}${s.rows_done ? '' : '…'}` })));
  $('#open-result').replaceChildren(el('table', { class: 'data', id: 'sheets-table' },
    el('caption', { text: ws.workbook ? 'Sheets of the workbook (imported in dependency order)' : 'The file' }),
    el('thead', {}, el('tr', {}, ...['Sheet', 'Object', 'How it was told', 'Profile', 'Rows'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows)));
}

function objectSelect(s) {
  const sel = el('select', { 'aria-label': `Object for ${s.sheet || state.ws.name}` },
    el('option', { value: '', text: 'choose…' }),
    ...state.objects.map((o) => el('option', { value: o, text: o, selected: o === s.object_type })));
  sel.addEventListener('change', guard(async () => {
    await api(`/api/ws/${state.ws.id}/sheets/${s.id}/object`, { method: 'POST', body: { object_type: sel.value } });
    await refreshWorkspace();
    say(`${s.sheet || state.ws.name} goes to ${sel.value}.`);
  }));
  return sel;
}

async function refreshWorkspace() {
  state.ws = await api(`/api/ws/${state.ws.id}`);
  return state.ws;
}

function startPolling() {
  clearInterval(state.poll);
  state.poll = setInterval(guard(async () => {
    const ws = await refreshWorkspace();
    const s = currentSheet();
    const busy = ws.sheets.some((x) => !x.rows_done || !x.check_done);
    const where = `${s.sheet ? s.sheet + ': ' : ''}${fmt(s.rows_loaded)} rows read${s.rows_done ? '' : ' (reading…)'}, ${fmt(s.checked)} checked${s.check_done ? '' : ' (checking…)'}`;
    $('#grid-caption').textContent = `Rows of ${ws.name} — ${where}`;
    for (const cell of document.querySelectorAll('#sheets-table .rows-loaded')) cell.textContent = '';
    const cells = document.querySelectorAll('#sheets-table .rows-loaded');
    ws.sheets.forEach((x, i) => { if (cells[i]) cells[i].textContent = `${fmt(x.rows_loaded)}${x.rows_done ? '' : '…'}`; });
    if (!busy) {
      clearInterval(state.poll);
      state.poll = null;
      say(`${ws.name}: every row read and checked.`);
      if (state.step === 'values') await loadValues();
      if (state.step === 'review') await loadGrid();
    }
  }), 700);
}

// --- columns ---------------------------------------------------------------------------------------

async function loadColumns() {
  const data = await api(`${sheetPath()}/columns`);
  const s = data.sheet;
  const info = [];
  if (s.profile) info.push(el('p', {}, `Detected an export of ${s.profile_name}: its profile maps the headers, reads owners, amounts and dates its way, and keys rows by its ids (${s.key_field}).`));
  info.push(el('p', {}, `Object: `, el('b', { text: s.object_type || 'not chosen' }), ` (${s.detected}). Rows are matched by `, el('code', { text: s.key_field }), '.'));
  if (s.mapping_error) info.push(el('p', { class: 'sev-error' }, '✖ ', s.mapping_error));
  if (data.file_issues.length) info.push(el('ul', {}, data.file_issues.map((i) => el('li', { class: `sev-${i.severity}` }, i.severity === 'error' ? '✖ ' : '⚠ ', `${i.header ? i.header + ': ' : ''}${i.message}`))));
  $('#columns-info').replaceChildren(...info);
  const options = (current) => [el('option', { value: '', text: '— do not import —' }),
    ...data.fields.map((f) => el('option', { value: f.key, text: `${f.label} (${f.key})`, selected: f.key === current }))];
  $('#columns-table tbody').replaceChildren(...data.columns.map((c) => {
    const sel = el('select', { 'aria-label': `Field for column ${c.letter} "${c.header}"` }, options(c.target));
    sel.addEventListener('change', guard(async () => {
      await api(`${sheetPath()}/columns`, { method: 'POST', body: { header: c.header, target: sel.value || null } });
      say(`Column ${c.letter} "${c.header}" → ${sel.value || 'not imported'}; checking the file again…`);
      startPolling();
      await loadColumns();
    }));
    const sure = c.target ? `${HOW[c.how] || c.how}, ${c.score}%` : (c.nearest.length ? `no match (nearest: ${c.nearest.join(', ')})` : 'no match');
    return el('tr', {}, el('td', { text: c.letter }), el('th', { scope: 'row', text: c.header }), el('td', {}, sel),
      el('td', { class: c.target && c.score < 100 ? 'sure-low' : '', text: (c.target && c.score < 100 ? '⚠ ' : '') + sure }));
  }));
  $('#unmapped').textContent = data.unmapped.map((f) => `${f.label} (${f.key})`).join(', ') || 'none';
  const recipes = await api(`/api/recipes?ws=${state.ws.id}&sheet=${state.sheet}`);
  const fits = recipes.recipes.filter((r) => r.matches);
  $('#recipe-offer').replaceChildren(...fits.map((r) => el('p', { class: 'ok' }, `✔ The recipe "${r.name}" was saved for files with these headers. `,
    el('button', { type: 'button', onclick: guard(() => useRecipe(r.name)) }, `Use recipe "${r.name}"`))));
}

// --- values ----------------------------------------------------------------------------------------

async function loadValues() {
  const data = await api(`${sheetPath()}/values`);
  const body = $('#values-table tbody');
  if (!data.groups.length) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 5, text: data.sheet.check_done ? '✔ Every value matches an option or a record.' : 'Checking the file…' })));
  } else {
    body.replaceChildren(...data.groups.map((g) => {
      const near = new Set(g.nearest);
      const sel = el('select', { 'aria-label': `Map "${g.value}" of ${g.header} to` },
        el('option', { value: '', text: 'choose…' }),
        ...g.nearest.map((o) => el('option', { value: o, text: `${o} (nearest)` })),
        ...g.options.filter((o) => !near.has(o)).map((o) => el('option', { value: o, text: o })));
      sel.addEventListener('change', guard(async () => {
        if (!sel.value) return;
        await api(`${sheetPath()}/values`, { method: 'POST', body: { header: g.header, value: g.value, choice: sel.value } });
        say(`"${g.value}" of ${g.header} → ${sel.value} in all ${fmt(g.count)} rows; checking the file again…`);
        startPolling();
        await loadValues();
      }));
      return el('tr', {}, el('td', { text: `${g.column} ${g.header}` }), el('th', { scope: 'row', text: g.value }), el('td', { text: fmt(g.count) }),
        el('td', { class: 'sev-error' }, '✖ ', g.message), el('td', {}, sel));
    }));
  }
  $('#mapped-summary').textContent = `Value maps in use (${data.mapped.length}: the profile's and your choices)`;
  $('#mapped-values').replaceChildren(...(data.mapped.length ? data.mapped.map((m) => el('li', {}, `${m.header}: "${m.value}" → ${m.choice} `,
    el('button', { type: 'button', 'aria-label': `Remove the value map "${m.value}" of ${m.header}`, onclick: guard(async () => {
      await api(`${sheetPath()}/values`, { method: 'POST', body: { header: m.header, value: m.value, choice: null } });
      startPolling();
      await loadValues();
    }) }, 'Remove'))) : [el('li', { text: 'none yet' })]));
}

// --- review grid -----------------------------------------------------------------------------------

function wireReview() {
  $('#grid-only').addEventListener('change', guard(async (e) => { state.grid.only = e.target.value; state.grid.offset = 0; await loadGrid(); }));
  $('#grid-code').addEventListener('change', guard(async (e) => {
    state.grid.code = e.target.value;
    if (state.grid.code && !state.grid.only) { state.grid.only = 'issues'; }
    state.grid.offset = 0;
    await loadGrid();
  }));
  $('#replace-form').addEventListener('submit', guard(async (e) => {
    e.preventDefault();
    const r = await api(`${sheetPath()}/replace`, { method: 'POST', body: { col: Number($('#replace-col').value), find: $('#replace-find').value, replace: $('#replace-with').value, whole: $('#replace-whole').checked } });
    say(`Replaced in ${fmt(r.changed)} rows.`);
    await loadGrid();
  }));
  $('#save-copy').addEventListener('click', guard(async () => {
    const r = await api(`/api/ws/${state.ws.id}/save`, { method: 'POST' });
    const where = r.path ? `Saved a copy with the fixes: ${r.path}` : `Saved a copy with the fixes: ${r.name}`;
    say(where + ' (the original is unchanged).');
    $('#save-copy').after(el('a', { href: r.download, id: 'copy-link', download: r.name }, ` Download ${r.name}`));
  }));
}

function issueText(i) { return `${i.severity === 'error' ? '✖ error' : '⚠ warning'} ${i.code}${i.header ? ` (${i.column} ${i.header})` : ''}: ${i.message}`; }

async function loadGrid() {
  // the rows on screen are about to be replaced: no typing into them meanwhile (an edit made in a
  // row that is then replaced would be lost without a word)
  const stale = [...document.querySelectorAll('#grid tbody input:not([disabled])')];
  for (const i of stale) i.disabled = true;
  $('#grid').setAttribute('aria-busy', 'true');
  try {
    await renderGrid();
  } finally {
    for (const i of stale) if (i.isConnected) i.disabled = false;
    $('#grid').removeAttribute('aria-busy');
  }
}

async function renderGrid() {
  const g = state.grid;
  const q = new URLSearchParams({ offset: g.offset, limit: PAGE, only: g.only, code: g.code });
  const data = await api(`${sheetPath()}/grid?${q}`);
  const s = currentSheet();
  const headers = s.headers;
  $('#grid-only').value = g.only === 'issues' ? '' : g.only;
  const codeSel = $('#grid-code');
  codeSel.replaceChildren(el('option', { value: '', text: 'every kind' }),
    ...data.kinds.map((k) => el('option', { value: k.code, selected: k.code === g.code, text: `${k.severity === 'error' ? '✖' : '⚠'} ${k.code} (${fmt(k.rows)} row${k.rows === 1 ? '' : 's'})` })));
  $('#kinds').replaceChildren(...data.kinds.map((k) => el('li', {}, el('button', { type: 'button', 'aria-pressed': String(k.code === g.code), onclick: guard(async () => {
    state.grid = { offset: 0, only: k.severity === 'error' ? 'errors' : 'warnings', code: k.code };
    await loadGrid();
  }) }, `${k.severity === 'error' ? '✖' : '⚠'} ${k.code}: ${fmt(k.rows)} row${k.rows === 1 ? '' : 's'}`))));
  const colSel = $('#replace-col');
  if (colSel.options.length !== headers.length) colSel.replaceChildren(...headers.map((h, i) => el('option', { value: i, text: h || `column ${i + 1}` })));
  const thead = $('#grid thead');
  thead.replaceChildren(el('tr', {}, el('th', { scope: 'col', text: 'Row' }), el('th', { scope: 'col', text: 'Problems' }), ...headers.map((h) => el('th', { scope: 'col', text: h }))));
  $('#grid tbody').replaceChildren(...data.rows.map((r) => gridRow(r, headers)));
  const last = Math.max(0, Math.ceil(data.total / PAGE) - 1) * PAGE;
  const first = data.rows.length ? g.offset + 1 : 0;
  const pager = $('#grid-pager');
  const go = (o) => guard(async () => { state.grid.offset = Math.max(0, o); await loadGrid(); });
  const jump = el('input', { id: 'goto-row', size: 7, 'aria-label': 'Go to row number (position in the file)' });
  pager.replaceChildren(
    el('button', { type: 'button', onclick: go(0), disabled: g.offset === 0 }, 'First'),
    el('button', { type: 'button', onclick: go(g.offset - PAGE), disabled: g.offset === 0 }, 'Previous'),
    el('span', { id: 'grid-range', 'aria-live': 'polite' }, `Rows ${fmt(first)}–${fmt(g.offset + data.rows.length)} of ${fmt(data.total)}${data.exact ? '' : ' (still reading)'}${g.only ? ` with ${g.code || (g.only === 'errors' ? 'errors' : g.only === 'warnings' ? 'warnings' : 'problems')}` : ''}`),
    el('button', { type: 'button', onclick: go(g.offset + PAGE), disabled: g.offset + PAGE >= data.total }, 'Next'),
    el('button', { type: 'button', onclick: go(last), disabled: g.offset >= last }, 'Last'),
    el('label', {}, 'Go to', jump),
    el('span', { class: 'note', text: `page served in ${data.ms} ms` }));
  jump.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(Number(jump.value) - 1)(); });
}

function gridRow(r, headers) {
  const byCol = new Map();
  for (const i of r.issues) { if (!byCol.has(i.col)) byCol.set(i.col, []); byCol.get(i.col).push(i); }
  const msgId = `msg-${r.n}`;
  const problems = r.issues.length
    ? el('ul', { id: msgId }, r.issues.map((i) => el('li', { class: `sev-${i.severity}`, text: issueText(i) })))
    : el('span', { class: 'ok', id: msgId, text: '✔ ok' });
  const tr = el('tr', { 'data-n': r.n }, el('td', { class: 'num', text: r.number }), el('td', { class: 'problems' }, problems));
  headers.forEach((h, c) => {
    const issues = byCol.get(c) || [];
    const sev = issues.some((i) => i.severity === 'error') ? 'err' : issues.length ? 'warn' : '';
    const edited = r.edited.includes(c);
    const input = el('input', {
      value: r.cells[c] ?? '', 'aria-label': `Row ${r.number}, ${h || 'column ' + (c + 1)}`,
      'aria-invalid': sev === 'err' ? 'true' : null, 'aria-describedby': issues.length ? msgId : null,
      title: issues.map(issueText).join('\n') || null, 'data-col': c,
    });
    input.addEventListener('change', guard(async () => {
      const res = await api(`${sheetPath()}/cell`, { method: 'POST', body: { n: r.n, col: c, value: input.value } });
      tr.replaceWith(gridRow(res.row, headers));
      const again = $(`#grid tr[data-n="${r.n}"] input[data-col="${c}"]`);
      const bad = res.row.issues.filter((i) => i.col === c);
      say(`Row ${r.number}, ${h}: saved (checked again in ${res.ms} ms)${bad.length ? ' — ' + bad.map((i) => i.message).join('; ') : ' — ✔ no problem in this cell'}.`);
      again?.focus();
    }));
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); input.blur(); }
      if (e.key === 'Escape') { input.value = r.cells[c] ?? ''; }
    });
    const marks = [];
    if (sev) marks.push(el('span', { class: `mark ${sev}`, 'aria-hidden': 'true', text: sev === 'err' ? '✖' : '⚠' }));
    if (edited) marks.push(el('span', { class: 'mark edit', title: 'edited', text: '✎' }), el('span', { class: 'sr', text: ' (edited)' }));
    tr.append(el('td', { class: [sev, edited ? 'edited' : ''].join(' ').trim() }, el('div', { class: 'cell' }, ...marks, input)));
  });
  return tr;
}

// --- runs: diff and import ----------------------------------------------------------------------------

function wireRuns() {
  $('#run-dry').addEventListener('click', guard(async () => {
    state.dryJob = await api(`/api/ws/${state.ws.id}/run/dry-run`, { method: 'POST', body: {} });
    await follow(state.dryJob.id, 'diff');
  }));
  $('#run-import').addEventListener('click', guard(async () => {
    state.importJob = await api(`/api/ws/${state.ws.id}/run/import`, { method: 'POST', body: {} });
    await follow(state.importJob.id, 'import');
  }));
  $('#pause-import').addEventListener('click', guard(async () => { await api(`/api/jobs/${state.importJob.id}/pause`, { method: 'POST' }); say('Pausing: requests in flight finish, then the run stops; Resume continues it.'); }));
  $('#resume-import').addEventListener('click', guard(async () => { await api(`/api/jobs/${state.importJob.id}/resume`, { method: 'POST' }); await follow(state.importJob.id, 'import'); }));
  $('#retry-import').addEventListener('click', guard(async () => {
    const retry = await api(`/api/jobs/${state.importJob.id}/retry`, { method: 'POST' });
    await follow(retry.id, 'import', state.importJob.id);
  }));
  $('#undo-import').addEventListener('click', guard(async () => {
    if (!confirm('Undo this import? Records it created are deleted and fields it changed go back.')) return;
    const undo = await api(`/api/jobs/${state.importJob.id}/undo`, { method: 'POST' });
    await follow(undo.id, 'import', state.importJob.id, true);
  }));
}

async function showImportTarget() {
  const st = await refreshWorkspace();
  const s = currentSheet();
  $('#import-target').textContent = `${st.workbook ? `Every sheet of ${st.name}, in order` : `${st.name} into ${s.object_type}`}, with the mapping of steps 2–3${st.sheets.some((x) => x.edits) ? ' and the fixes of step 4 (saved as a copy first; the original is unchanged)' : ''}.`;
  $('#undo-import').title = state.undo ? '' : 'Needs bulkio undo, which this version does not have';
}

async function follow(jobId, where, resultsOf = null, isUndo = false) {
  const box = $(`#${where}-progress`);
  const buttons = where === 'import';
  for (;;) {
    const p = await api(`/api/jobs/${jobId}`);
    box.replaceChildren(progressView(p));
    if (buttons) {
      $('#pause-import').disabled = p.status !== 'running';
      $('#resume-import').disabled = p.status !== 'paused';
      $('#run-import').disabled = p.status === 'running';
    }
    if (p.status !== 'running') {
      say(`${p.kind === 'dry_run' ? 'Dry run' : p.kind === 'retry' ? 'Retry' : p.kind === 'undo' ? 'Undo' : 'Import'} ${p.status}${p.error ? ': ' + p.error : ''}.`);
      if (p.status === 'failed' && p.error) fail(new Error(p.error));
      const jid = resultsOf || jobId;
      if (where === 'diff') await showRows(jid, 'diff', p);
      else {
        const main = resultsOf ? await api(`/api/jobs/${resultsOf}`) : p;
        $('#retry-import').disabled = !(main.failed_rows > 0) || main.kind === 'dry_run' || isUndo;
        $('#undo-import').disabled = !state.undo || main.status !== 'done' || isUndo;
        await showRows(jid, 'import', main);
      }
      return p;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function progressView(p) {
  const parts = [];
  const w = p.write || p.plan;
  if (w) {
    const label = p.write ? 'written' : 'planned';
    parts.push(el('label', {}, `Rows ${label}: ${fmt(w.done)} of ${fmt(w.total)}`, el('progress', { max: w.total || 1, value: w.done })));
  }
  const facts = [`${p.status}`];
  if (p.rows_per_s) facts.push(`${p.rows_per_s} rows/s`);
  if (p.rate_limit_per_s) facts.push(`rate limit ${p.rate_limit_per_s} requests/s`);
  if (p.eta_s !== null && p.status === 'running') facts.push(`about ${Math.ceil(p.eta_s)} s left`);
  if (p.rate_limited) facts.push(`slowed by the rate limit ${p.rate_limited}×`);
  if (p.retries) facts.push(`${p.retries} retries`);
  facts.push(`${p.seconds} s`);
  parts.push(el('p', { class: 'job-facts' }, facts.join(' · ')));
  if (p.messages.length) parts.push(el('ul', { class: 'note' }, p.messages.slice(-4).map((m) => el('li', { text: m }))));
  if (p.run_ids && Object.keys(p.run_ids).length) parts.push(el('p', { class: 'note' }, `Run ${Object.values(p.run_ids).join(', ')}${p.input ? ` on ${p.input}` : ''}.`));
  if (p.results && Object.keys(p.results).length) parts.push(el('p', { class: 'note' }, `Results sheet: ${Object.values(p.results).join(', ')}`));
  return el('div', {}, ...parts);
}

const WORDS = { created: 'created', updated: 'updated', unchanged: 'unchanged', failed: 'failed', skipped: 'skipped' };

async function showRows(jobId, where, p, offset = 0) {
  const box = $(`#${where}-results`);
  const dry = p.kind === 'dry_run';
  const counts = p.counts || {};
  const countLine = el('p', { class: 'counts', id: `${where}-counts` }, ...Object.entries(counts).map(([k, v]) => el('span', {}, el('b', { text: fmt(v) }), ` ${k}`)));
  const filter = el('select', { id: `${where}-filter`, 'aria-label': `Show which rows of the ${dry ? 'dry run' : 'import'}` }, el('option', { value: '', text: 'every row' }),
    ...Object.keys(WORDS).map((k) => el('option', { value: k, text: dry ? `would be ${k}` : k })));
  const key = where === 'diff' ? 'diffFilter' : 'resultFilter';
  filter.value = state[key];
  const q = new URLSearchParams({ sheet: state.sheet, offset, limit: PAGE, outcome: state[key] });
  const rows = await api(`/api/jobs/${jobId}/rows?${q}`);
  filter.addEventListener('change', guard(async () => { state[key] = filter.value; await showRows(jobId, where, p); }));
  // one column per field that changes on this page: each cell is that field, before → after
  const fields = [];
  for (const r of rows.rows) for (const c of r.changes) if (!fields.some((f) => f.field === c.field)) fields.push(c);
  const head = ['Row', 'Outcome', 'Record', ...fields.map((f) => f.label), 'Problems'];
  const body = rows.rows.map((r) => {
    const byField = new Map(r.changes.map((c) => [c.field, c]));
    return el('tr', {},
      el('td', { text: r.number }),
      el('td', { class: `outcome ${r.outcome.replace(' ', '-')}`, text: (r.outcome.includes('fail') ? '✖ ' : '') + r.outcome }),
      el('td', {}, r.link ? el('a', { href: r.link, target: '_blank', rel: 'noopener' }, r.record_id) : (r.record_id || '')),
      ...fields.map((f) => {
        const c = byField.get(f.field);
        if (!c) return el('td', {});
        return el('td', { class: 'change' }, c.created ? '' : el('del', { text: c.before }), c.created ? '' : ' → ', el('ins', { text: c.after }));
      }),
      el('td', { class: 'problems' }, r.issues.map((i) => el('div', { class: `sev-${i.severity}`, text: issueText(i) }))));
  });
  const sheetName = currentSheet().sheet;
  const table = el('table', { class: 'data', id: `${where}-table` },
    el('caption', { text: `${dry ? 'What the import would do' : 'What the import did'}${sheetName ? ` (sheet ${sheetName})` : ''}: rows ${fmt(rows.rows.length ? offset + 1 : 0)}–${fmt(offset + rows.rows.length)} of ${fmt(rows.total)}` }),
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, body));
  const pager = el('div', { class: 'pager' },
    el('button', { type: 'button', disabled: offset === 0, onclick: guard(() => showRows(jobId, where, p, Math.max(0, offset - PAGE))) }, 'Previous rows'),
    el('button', { type: 'button', disabled: offset + PAGE >= rows.total, onclick: guard(() => showRows(jobId, where, p, offset + PAGE)) }, 'Next rows'));
  box.replaceChildren(countLine, filter, pager, el('div', { class: 'grid-wrap' }, table));
}

// --- recipes -----------------------------------------------------------------------------------------

async function loadRecipes() {
  const r = await api(`/api/recipes?ws=${state.ws.id}&sheet=${state.sheet}`);
  renderRecipes(r.recipes);
}

function renderRecipes(list) {
  $('#recipes-table tbody').replaceChildren(...(list.length ? list.map((r) => el('tr', {},
    el('th', { scope: 'row', text: r.name }), el('td', { text: r.object || '' }),
    el('td', { text: r.error ? `✖ ${r.error}` : r.matches ? '✔ same headers' : 'no' }),
    el('td', { text: r.columns ?? '' }), el('td', { text: r.values ?? '' }), el('td', {}, el('code', { text: r.path })),
    el('td', {}, r.error ? '' : el('button', { type: 'button', onclick: guard(() => useRecipe(r.name)) }, `Use "${r.name}"`)))) : [el('tr', {}, el('td', { colspan: 7, text: 'No recipe saved yet.' }))]));
}

async function useRecipe(name) {
  await api('/api/recipes/apply', { method: 'POST', body: { ws: state.ws.id, sheet: state.sheet, name } });
  say(`Using the recipe "${name}"; checking the file again…`);
  startPolling();
  show('columns');
}

boot().catch(fail);
