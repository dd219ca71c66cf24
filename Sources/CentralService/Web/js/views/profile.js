// The profile editor: the YAML document in a text area, checked as you type (POST
// /api/profiles/check, debounced) with every problem shown at its line and field; the changes
// against a stored version (a line diff); a preview of a night and the simulator's figures (POST
// /api/profiles/preview); upload as a new version (POST /api/routes/ID/profiles).
//
// An unsaved draft is kept in the tab's sessionStorage, so that looking at the schematic and
// coming back does not lose it.

import { get, post, seg } from '../api.js';
import { h, replace, errorBox, toast, field, debounce, table, sentence } from '../dom.js';
import { stepChart } from '../charts.js';
import { diffLines, hunks, stats, lines as splitLines } from '../diff.js';
import { may } from '../session.js';
import { localClock, energy as fmtEnergy, ratio, number, duration, today, plural, dateTime } from '../format.js';
import { routeHeader } from './common.js';

const CHECK_DELAY_MS = 400;

const NEW_ROUTE_TEMPLATE = `format: lichtweg-profile/1
version: 1
route:
  id: new-route                 # lower-case letters, digits and '-': used in MQTT topics
  name: New route
  timezone: Europe/Berlin
  location: {lat: 51.33, lon: 12.58}
  luminaires:
    led-24w: {power: 24, standby: 0.9}
  poles:
    - {id: NR-001, chainage: 0, lat: 51.3300, lon: 12.5800, luminaire: led-24w, sensors: [{id: a, kind: pir, facing: increasing, range: 21}]}
    - {id: NR-002, chainage: 35, lat: 51.3303, lon: 12.5800, luminaire: led-24w, sensors: [{id: a, kind: pir, facing: increasing, range: 21}]}
lightingClasses: {P4: 30, P6: 10}
calendar: {default: night}
programs:
  night:
    switchOn: {event: sunset}
    switchOff: {event: sunrise}
    class: P4
    steps:
      - {at: switchOn, level: 30}
      - {at: "22:00", level: 10, class: P6}
    presence: {level: 100, holdSeconds: 60}
`;

export async function profileView(container, routeId) {
  const isNew = routeId === null;
  document.title = `${isNew ? 'New route' : routeId} · Profile · Lichtweg Central`;
  const draftKey = `lichtweg.draft.${routeId || '(new)'}`;
  const st = {
    versions: [], docs: new Map(), base: null, compare: null, inForce: new Map(),
    check: { state: 'idle' }, seq: 0, controller: null, trafficModels: null, destroyed: false,
  };

  // --- Elements --------------------------------------------------------------------------------

  const statusPill = h('span', { id: 'check-status', class: 'pill pill-muted', role: 'status', dataset: { state: 'idle' } }, 'Not checked');
  const textarea = h('textarea', {
    id: 'profile-doc', class: 'code-input', spellcheck: false, wrap: 'off', autocomplete: 'off',
    autocapitalize: 'off', 'aria-label': 'Profile document (YAML)', 'aria-describedby': 'check-status',
  });
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const baseInfo = h('span', { class: 'base-info', id: 'base-info' });
  const draftNote = h('div', { id: 'draft-note' });

  const comment = h('input', { id: 'upload-comment', maxlength: 500, placeholder: 'What changed and why (goes into the version history)' });
  const uploadButton = h('button', { type: 'submit', class: 'btn btn-primary', id: 'upload-submit', disabled: true }, 'Upload');
  const uploadHint = h('span', { class: 'hint', id: 'upload-hint' });
  const uploadMessage = h('div', { id: 'upload-message', 'aria-live': 'polite' });
  const uploadForm = h('form', { class: 'upload-bar', id: 'upload-form', 'aria-label': 'Upload as a new version' },
    h('div', { class: 'field grow' }, h('label', { for: comment.id }, 'Comment'), comment),
    h('div', { class: 'upload-go' }, uploadButton, uploadHint));

  const problemsHost = h('div', { id: 'problems-host' });
  const diffHost = h('div', { id: 'diff-host' });
  const compareSelect = h('select', { id: 'compare-version' });
  const previewHost = h('div', { id: 'preview-host', 'aria-live': 'polite' });

  const tabDefs = [
    ['check', 'Check', h('div', { class: 'tab-body' }, problemsHost)],
    ['changes', 'Changes', h('div', { class: 'tab-body' },
      h('div', { class: 'field-inline' }, h('label', { for: compareSelect.id }, 'Compare with'), compareSelect), diffHost)],
    ['preview', 'Preview', h('div', { class: 'tab-body' }, previewForm(), previewHost)],
  ];
  const tabButtons = [];
  const tabPanels = [];
  const tablist = h('div', { class: 'tablist', role: 'tablist', 'aria-label': 'Check, changes and preview' });
  for (const [key, label, body] of tabDefs) {
    const button = h('button', {
      type: 'button', role: 'tab', id: `tab-${key}`, class: 'tab-button', 'aria-controls': `panel-${key}`,
      'aria-selected': 'false', tabindex: '-1', dataset: { tab: key },
    }, h('span', null, label), h('span', { class: 'tab-count', id: `tab-${key}-count` }));
    button.addEventListener('click', () => showTab(key));
    button.addEventListener('keydown', (e) => {
      const i = tabDefs.findIndex((d) => d[0] === key);
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        const next = tabDefs[(i + (e.key === 'ArrowRight' ? 1 : tabDefs.length - 1)) % tabDefs.length][0];
        showTab(next);
        document.getElementById(`tab-${next}`).focus();
      }
    });
    tabButtons.push(button);
    tablist.append(button);
    tabPanels.push(h('div', { role: 'tabpanel', id: `panel-${key}`, 'aria-labelledby': `tab-${key}`, hidden: true, class: 'tab-panel' }, body));
  }
  function showTab(key) {
    for (const b of tabButtons) {
      const on = b.dataset.tab === key;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.setAttribute('tabindex', on ? '0' : '-1');
      b.classList.toggle('tab-button-active', on);
    }
    for (const p of tabPanels) p.hidden = p.id !== `panel-${key}`;
    if (key === 'changes') renderDiff();
  }

  replace(container,
    isNew
      ? h('div', { class: 'route-head' },
        h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/routes' }, 'Routes'), ' / new route'),
        h('div', { class: 'route-title' }, h('h1', null, 'New route'), statusPill))
      : routeHeader(routeId, routeId, 'profile', statusPill),
    h('div', { class: 'editor-layout' },
      h('section', { class: 'panel editor-panel', 'aria-labelledby': 'doc-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'doc-h' }, 'Profile document'), baseInfo),
        draftNote,
        h('div', { class: 'editor' }, gutter, textarea),
        may('engineer') ? uploadForm : h('p', { class: 'note pad' }, 'Your role (viewer) can check and preview profiles. Engineers upload them.'),
        uploadMessage),
      h('section', { class: 'panel side-panel', 'aria-label': 'Check, changes and preview' }, tablist, tabPanels)));
  showTab('check');

  // --- Loading ---------------------------------------------------------------------------------

  async function loadVersions() {
    if (isNew) return;
    const [versions, routes, poles] = await Promise.all([
      get(`/routes/${seg(routeId)}/profiles`),
      get('/routes'),
      get(`/routes/${seg(routeId)}/poles`).catch(() => ({ items: [] })),
    ]);
    st.versions = versions.items;
    const route = routes.items.find((r) => r.id === routeId);
    const title = container.querySelector('#route-name');
    if (route && title) title.textContent = route.name;
    st.inForce = new Map();
    for (const p of poles.items) {
      if (p.profileVersion !== undefined && p.profileVersion !== null) st.inForce.set(p.profileVersion, (st.inForce.get(p.profileVersion) || 0) + 1);
    }
    replace(compareSelect, st.versions.map((v, i) => h('option', { value: v.version, selected: i === 0 },
      `v${v.version}${i === 0 ? ' (latest)' : ''}${st.inForce.has(v.version) ? ` · in force on ${plural(st.inForce.get(v.version), 'pole')}` : ''} · ${dateTime(v.createdAt)}`)));
    st.compare = st.versions.length ? st.versions[0].version : null;
  }

  async function documentOf(version) {
    if (!st.docs.has(version)) {
      const detail = await get(`/routes/${seg(routeId)}/profiles/${seg(version)}`);
      st.docs.set(version, detail.document);
    }
    return st.docs.get(version);
  }

  const latest = () => (st.versions.length ? st.versions[0] : null);

  // --- Editor ----------------------------------------------------------------------------------

  function renderGutter() {
    const count = splitLines(textarea.value).length;
    const bad = new Set((st.check.problems || []).map((p) => p.line).filter(Boolean));
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= count; i++) {
      frag.append(h('span', { class: bad.has(i) ? 'gl gl-bad' : 'gl', dataset: { line: i } }, String(i)));
    }
    gutter.replaceChildren(frag);
    gutter.scrollTop = textarea.scrollTop;
  }
  textarea.addEventListener('scroll', () => { gutter.scrollTop = textarea.scrollTop; });

  function jumpTo(line) {
    const all = splitLines(textarea.value);
    const n = Math.max(1, Math.min(line, all.length));
    let start = 0;
    for (let i = 0; i < n - 1; i++) start += all[i].length + 1;
    textarea.focus();
    textarea.setSelectionRange(start, start + all[n - 1].length);
    const lh = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, (n - 1) * lh - textarea.clientHeight / 3);
  }

  /** Where a problem without a line is, for the two fields the server reports that way. */
  function guessLine(fieldPath) {
    const all = splitLines(textarea.value);
    if (fieldPath === 'version') {
      const i = all.findIndex((l) => /^version\s*:/.test(l));
      return i >= 0 ? i + 1 : null;
    }
    if (fieldPath === 'route.id') {
      const r = all.findIndex((l) => /^route\s*:/.test(l));
      if (r < 0) return null;
      const i = all.findIndex((l, k) => k > r && /^\s+id\s*:/.test(l));
      return i >= 0 ? i + 1 : null;
    }
    return null;
  }

  function setVersionLine(version) {
    const all = splitLines(textarea.value);
    const i = all.findIndex((l) => /^version\s*:/.test(l));
    if (i < 0) return;
    const hash = all[i].indexOf('#');
    all[i] = `version: ${version}${hash >= 0 ? ' ' + all[i].slice(hash) : ''}`;
    textarea.value = all.join('\n');
    edited();
  }

  // --- Check as you type -----------------------------------------------------------------------

  const scheduleCheck = debounce(runCheck, CHECK_DELAY_MS);

  function edited() {
    saveDraft();
    setStatus('pending');
    renderGutter();
    renderUpload();
    scheduleCheck();
  }
  textarea.addEventListener('input', edited);

  async function runCheck() {
    const document_ = textarea.value;
    const mine = ++st.seq;
    if (st.controller) st.controller.abort();
    st.controller = new AbortController();
    setStatus('checking');
    let check;
    try {
      const body = { document: document_ };
      if (!isNew) body.route = routeId;
      const r = await post('/profiles/check', body, { signal: st.controller.signal });
      check = { state: 'ok', result: r, problems: [] };
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.status === 422) {
        const problems = (error.details.length ? error.details : [{ field: '', message: error.message }])
          .map((d) => ({ ...d, guessed: !d.line && !!guessLine(d.field), line: d.line || guessLine(d.field) }));
        check = { state: 'invalid', error, problems };
      } else {
        check = { state: 'error', error, problems: [] };
      }
    }
    if (mine !== st.seq || st.destroyed) return;
    check.document = document_;
    st.check = check;
    setStatus(check.state);
    renderProblems();
    renderGutter();
    renderUpload();
  }

  function setStatus(state) {
    const text = {
      idle: ['Not checked', 'muted'], pending: ['Edited…', 'muted'], checking: ['Checking…', 'info'],
      ok: ['Valid', 'ok'], invalid: [plural((st.check.problems || []).length, 'problem'), 'bad'], error: ['Check failed', 'warn'],
    }[state];
    statusPill.dataset.state = state;
    statusPill.className = `pill pill-${text[1]}`;
    statusPill.textContent = text[0];
    const count = document.getElementById('tab-check-count');
    if (count) {
      count.textContent = state === 'invalid' ? String(st.check.problems.length) : '';
      count.className = state === 'invalid' ? 'tab-count tab-count-bad' : 'tab-count';
    }
  }

  function renderProblems() {
    const c = st.check;
    if (c.state === 'ok') {
      const r = c.result;
      const l = latest();
      const stale = l && r.version <= l.version;
      const unchanged = l && st.docs.get(l.version) === c.document;
      const bump = l && may('engineer') ? h('button', { type: 'button', class: 'btn btn-small', id: 'bump-version', onclick: () => setVersionLine(l.version + 1) },
        `Set version: ${l.version + 1}`) : null;
      replace(problemsHost,
        h('div', { class: 'alert alert-ok', id: 'check-ok' },
          h('strong', null, 'The profile is valid. '),
          `Route ${r.route}, version ${r.version}, ${plural(r.poles, 'pole')}.`),
        unchanged ? h('div', { class: 'alert alert-info', id: 'version-info' },
          h('p', null, `This is version ${l.version} as stored.`,
            may('engineer') ? ` A change is uploaded as a new version: edit the document and raise its version to ${l.version + 1}.` : ''), bump)
          : stale ? h('div', { class: 'alert alert-warn', id: 'version-warning' },
            h('p', null, `Version ${r.version} is not newer than the latest stored version ${l.version}: the upload would be refused.`), bump) : null);
    } else if (c.state === 'invalid') {
      replace(problemsHost,
        h('div', { class: 'alert alert-bad' }, h('strong', null, sentence(c.error.message))),
        h('ol', { class: 'problems', id: 'problems' }, c.problems.map((p) => {
          const item = h('li', { class: 'problem', dataset: { line: p.line || '', field: p.field || '' } },
            h('button', {
              type: 'button', class: 'problem-line', disabled: !p.line,
              'aria-label': p.line ? `Go to line ${p.line}` : 'No line',
              onclick: () => jumpTo(p.line),
            }, p.line ? `${p.guessed ? '≈ ' : ''}line ${p.line}` : 'document'),
            h('div', { class: 'problem-text' },
              p.field ? h('code', { class: 'problem-field' }, p.field) : null,
              h('span', { class: 'problem-message' }, p.message)));
          return item;
        })));
    } else if (c.state === 'error') {
      replace(problemsHost, errorBox(c.error, 'The document could not be checked'));
    } else {
      replace(problemsHost, h('p', { class: 'muted' }, 'The document is checked as you type.'));
    }
  }

  // --- Changes ---------------------------------------------------------------------------------

  async function renderDiff() {
    if (isNew || st.compare === null) {
      replace(diffHost, h('p', { class: 'muted' }, 'No stored version to compare with.'));
      setCount('changes', '');
      return;
    }
    let base;
    try {
      base = await documentOf(st.compare);
    } catch (error) {
      replace(diffHost, errorBox(error, `Version ${st.compare} could not be loaded`));
      return;
    }
    const ops = diffLines(splitLines(base), splitLines(textarea.value));
    const { added, removed } = stats(ops);
    setCount('changes', added || removed ? `+${added} −${removed}` : '');
    const parts = hunks(ops, 3);
    if (!parts.length) {
      replace(diffHost, h('p', { class: 'muted', id: 'diff-none' }, `No changes against version ${st.compare}.`));
      return;
    }
    replace(diffHost,
      h('p', { class: 'diff-stats', id: 'diff-stats' },
        h('span', { class: 'add' }, `+${added}`), ' ', h('span', { class: 'del' }, `−${removed}`),
        ` lines against version ${st.compare}`),
      h('div', { class: 'diff', id: 'diff', role: 'table', 'aria-label': `Changes against version ${st.compare}` },
        parts.map((hunk) => [
          h('div', { class: 'diff-hunk', role: 'row' }, h('span', { role: 'cell' }, hunk.header)),
          hunk.lines.map((l) => h('div', {
            class: ['diff-line', l.op === '+' ? 'diff-add' : l.op === '-' ? 'diff-del' : null], role: 'row',
            dataset: { op: l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same' },
          },
          h('span', { class: 'dn', role: 'cell' }, l.oldNo ?? ''),
          h('span', { class: 'dn', role: 'cell' }, l.newNo ?? ''),
          h('span', { class: 'dop', role: 'cell', 'aria-label': l.op === '+' ? 'added' : l.op === '-' ? 'removed' : 'unchanged' }, l.op),
          h('span', { class: 'dt', role: 'cell' }, l.text))),
        ])));
  }
  const scheduleDiff = debounce(() => { if (!tabPanels[1].hidden) renderDiff(); else updateDiffCount(); }, 300);
  textarea.addEventListener('input', scheduleDiff);
  compareSelect.addEventListener('change', () => { st.compare = Number(compareSelect.value); renderDiff(); });

  async function updateDiffCount() {
    if (isNew || st.compare === null) return;
    try {
      const ops = diffLines(splitLines(await documentOf(st.compare)), splitLines(textarea.value));
      const { added, removed } = stats(ops);
      setCount('changes', added || removed ? `+${added} −${removed}` : '');
    } catch { /* shown when the tab is opened */ }
  }

  function setCount(tab, text) {
    const el = document.getElementById(`tab-${tab}-count`);
    if (el) el.textContent = text;
  }

  // --- Preview ---------------------------------------------------------------------------------

  function previewForm() {
    const date = h('input', { type: 'date', id: 'preview-date', value: today(), required: true });
    const nights = h('input', { type: 'number', id: 'preview-nights', min: 1, max: 31, value: '3', inputmode: 'numeric' });
    const traffic = h('select', { id: 'preview-traffic' }, h('option', { value: '' }, 'the route\'s own model'));
    const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'preview-run' }, 'Preview');
    const form = h('form', { class: 'preview-form', id: 'preview-form', 'aria-label': 'Preview a night' },
      field('Night of', date), field('Nights', nights), field('Traffic model', traffic), h('div', { class: 'field' }, h('span', { class: 'label-spacer' }, '\u00a0'), go));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      go.disabled = true;
      go.textContent = 'Simulating…';
      replace(previewHost, h('p', { class: 'loading' }, 'Computing the night and simulating the traffic…'));
      try {
        const body = { document: textarea.value, date: date.value || undefined, nights: Math.min(31, Math.max(1, Number(nights.value) || 1)) };
        if (traffic.value) body.traffic = traffic.value;
        renderPreview(await post('/profiles/preview', body));
      } catch (error) {
        replace(previewHost, errorBox(error, error.status === 422 ? 'The document cannot be previewed' : 'The preview failed'));
      } finally {
        go.disabled = false;
        go.textContent = 'Preview';
      }
    });
    // The traffic models the server knows (the route's own is the default).
    get('/traffic-models').then(({ items }) => {
      st.trafficModels = items;
      for (const name of items) traffic.append(h('option', { value: name }, name));
    }).catch(() => {});
    return form;
  }

  function renderPreview(p) {
    const n = p.night || {};
    const sim = p.simulation;
    const steps = n.steps || [];
    const lit = n.switchOn && n.switchOff;
    const nightSavings = n.fullLightWh > 0 ? 1 - n.energyWh / n.fullLightWh : null;
    replace(previewHost, h('div', { class: 'preview', id: 'preview-result' },
      h('h3', null, `Night of ${n.date}`, n.program ? h('span', { class: 'sub' }, ` · program ${n.program}`) : null),
      lit ? h('dl', { class: 'switch-times' },
        h('div', null, h('dt', null, 'Switch on'), h('dd', { id: 'preview-switch-on' }, localClock(n.switchOn))),
        h('div', null, h('dt', null, 'Switch off'), h('dd', { id: 'preview-switch-off' }, localClock(n.switchOff))),
        h('div', null, h('dt', null, 'This night'), h('dd', null, fmtEnergy(n.energyWh), h('span', { class: 'sub' }, ` of ${fmtEnergy(n.fullLightWh)} at full light`))),
        h('div', null, h('dt', null, 'Saved'), h('dd', null, ratio(nightSavings)))) : h('p', { class: 'alert alert-warn' }, 'The lamps stay off this night.'),
      lit && steps.length ? h('figure', { class: 'chart-figure' },
        stepChart({ steps, switchOn: n.switchOn, switchOff: n.switchOff }),
        h('figcaption', null, h('span', { class: 'key key-level' }), 'base level ', h('span', { class: 'key key-min' }), 'class minimum · times are the route\'s local time')) : null,
      steps.length ? table('Level steps', [{ label: 'From' }, { label: 'Level', class: 'num' }, { label: 'Class' }, { label: 'Minimum', class: 'num' }],
        steps.map((s) => h('tr', null, h('td', null, localClock(s.at)), h('td', { class: 'num' }, `${number(s.level, 1)} %`),
          h('td', null, s.class), h('td', { class: 'num' }, `${number(s.minimum, 1)} %`))), { id: 'preview-steps', class: 'compact' }) : null,
      sim ? h('section', { class: 'sim', id: 'preview-simulation', 'aria-label': 'Simulation' },
        h('h4', null, `Simulated: ${plural(sim.nights, 'night')} from ${sim.from || n.date}`,
          h('span', { class: 'sub model-name' }, `traffic model: ${sim.model}`)),
        h('div', { class: 'figures' },
          figure('Energy', `${number(sim.energyKWh, 2)} kWh`, null, 'sim-energy'),
          figure('Full light', `${number(sim.baselineFullKWh, 2)} kWh`, null, 'sim-full'),
          figure('Savings vs full', ratio(sim.savingsVsFull), sim.savingsVsFull >= 0.6 ? 'ok' : 'warn', 'sim-savings'),
          figure('Dark exposure', duration(sim.darkExposureSeconds), sim.darkExposureSeconds === 0 ? 'ok' : 'bad', 'sim-dark',
            'Seconds a road user had an unlit pole within stopping sight distance ahead'),
          figure('Light ahead', ratio(sim.lightAheadRatio, 2), sim.lightAheadRatio >= 0.99 ? 'ok' : 'bad', 'sim-ahead',
            'Share of road-user time with the whole sight distance lit'),
          figure('Switches per lamp-night', number(sim.switchCyclesPerLampNight, 1), null, 'sim-cycles',
            'Times a lamp is raised per night (driver wear)'))) :
        h('p', { class: 'note' }, 'No traffic model on the server: the simulation was skipped.')));
  }

  // --- Upload ----------------------------------------------------------------------------------

  function renderUpload() {
    if (!may('engineer')) return;
    const c = st.check;
    const l = latest();
    let reason = '';
    let version = null;
    if (c.state !== 'ok' || c.document !== textarea.value) reason = c.state === 'invalid' ? 'Fix the problems first.' : 'Waiting for the check…';
    else {
      version = c.result.version;
      if (l && version <= l.version) reason = `Raise the version above ${l.version}.`;
      else if (!isNew && st.docs.get(l && l.version) === textarea.value) reason = 'No changes.';
    }
    uploadButton.disabled = !!reason;
    uploadButton.textContent = version && !reason ? `Upload as version ${version}` : 'Upload';
    uploadHint.textContent = reason;
  }

  uploadForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (uploadButton.disabled) return;
    const target = isNew ? st.check.result.route : routeId;
    uploadButton.disabled = true;
    replace(uploadMessage);
    try {
      const summary = await post(`/routes/${seg(target)}/profiles`, { document: textarea.value, comment: comment.value.trim() });
      clearDraft();
      toast(`Version ${summary.version} of ${summary.route} stored`);
      if (isNew) { location.hash = `#/routes/${seg(summary.route)}`; return; }
      st.docs.set(summary.version, textarea.value);
      comment.value = '';
      await loadVersions();
      replace(uploadMessage, h('div', { class: 'alert alert-ok', id: 'upload-done', role: 'status' },
        h('strong', null, `Version ${summary.version} stored. `),
        'It is signed but not on the poles yet. ',
        h('a', { href: `#/routes/${seg(routeId)}`, id: 'go-rollout' }, `Roll out version ${summary.version} →`)));
      renderBaseInfo();
      renderProblems();
      renderUpload();
      if (!tabPanels[1].hidden) renderDiff(); else updateDiffCount();
    } catch (error) {
      replace(uploadMessage, errorBox(error, 'The upload was refused'));
      renderUpload();
    }
  });

  // --- Drafts ----------------------------------------------------------------------------------

  function saveDraft() {
    try {
      sessionStorage.setItem(draftKey, JSON.stringify({ base: st.base, text: textarea.value }));
    } catch { /* storage full or off: drafts are a convenience */ }
  }
  function clearDraft() {
    try { sessionStorage.removeItem(draftKey); } catch { /* see above */ }
    replace(draftNote);
  }
  function loadDraft() {
    try { return JSON.parse(sessionStorage.getItem(draftKey) || 'null'); } catch { return null; }
  }

  function renderBaseInfo() {
    const l = latest();
    replace(baseInfo, isNew ? 'A new route is created by its first upload.'
      : l ? `Latest stored: version ${l.version} by ${l.author}, ${dateTime(l.createdAt)}` : 'No version stored yet.');
  }

  // --- Start -----------------------------------------------------------------------------------

  try {
    await loadVersions();
  } catch (error) {
    replace(container, isNew ? '' : routeHeader(routeId, routeId, 'profile'), errorBox(error, 'The profile could not be loaded'));
    return null;
  }
  let initial = NEW_ROUTE_TEMPLATE;
  const l = latest();
  if (l) {
    try {
      initial = await documentOf(l.version);
      st.base = l.version;
    } catch (error) {
      replace(uploadMessage, errorBox(error, `Version ${l.version} could not be loaded`));
    }
  }
  const draft = loadDraft();
  if (draft && draft.text !== initial) {
    textarea.value = draft.text;
    replace(draftNote, h('div', { class: 'alert alert-info draft' },
      h('span', null, `Your unsaved draft${draft.base ? ` (edited from version ${draft.base})` : ''} was restored. `),
      h('button', {
        type: 'button', class: 'btn btn-small', onclick: () => { textarea.value = initial; clearDraft(); edited(); },
      }, 'Discard draft')));
  } else {
    textarea.value = initial;
  }
  renderBaseInfo();
  renderGutter();
  renderProblems();
  renderUpload();
  runCheck();
  updateDiffCount();

  return {
    destroy() {
      st.destroyed = true;
      scheduleCheck.cancel();
      scheduleDiff.cancel();
      if (st.controller) st.controller.abort();
    },
  };
}

function figure(label, value, tone, id, hint) {
  return h('div', { class: ['figure', tone ? `figure-${tone}` : null], id, title: hint || null },
    h('div', { class: 'figure-label' }, label), h('div', { class: 'figure-value' }, value));
}
