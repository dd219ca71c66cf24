// A route: the live schematic of the road, its poles, the rollout (start, halt, roll back, progress
// per pole) and its open alarms. Live over Server-Sent Events (GET /api/routes/ID/events: `pole`,
// `rollout`, `alarm`); after a lost connection everything is loaded again, so nothing missed stays
// wrong.

import { get, post, seg, ApiError } from '../api.js';
import { h, replace, table, pill, errorBox, toast, field, uid } from '../dom.js';
import { schematic, legend, levelColour } from '../schematic.js';
import { may, refreshAlarmBadge } from '../session.js';
import { ago, timeEl, level as fmtLevel, number, plural, dateTime } from '../format.js';
import { routeHeader, alarmList } from './common.js';

const RUNNING = new Set(['planned', 'canary', 'soaking', 'rolling-out']);
const ROLLOUT_STEP = { planned: 0, canary: 1, soaking: 2, 'rolling-out': 3, completed: 4, halted: 4 };
const STATE_LABEL = {
  planned: 'Planned', canary: 'Canary stage', soaking: 'Soaking', 'rolling-out': 'Rolling out',
  completed: 'Completed', halted: 'Halted',
};
const STATE_TONE = { planned: 'info', canary: 'info', soaking: 'info', 'rolling-out': 'info', completed: 'ok', halted: 'bad' };
const PROGRESS_TONE = { waiting: 'muted', sent: 'info', applied: 'ok', rejected: 'bad' };

export async function routeView(container, routeId) {
  document.title = `${routeId} · Lichtweg Central`;
  const st = {
    layout: null, poles: new Map(), versions: [], rollout: null, alarms: [], selected: null,
    closed: false, source: null, retry: null, clock: null, frame: 0, runningShown: null,
  };

  const live = h('span', { class: 'live live-connecting', id: 'live', role: 'status' }, 'Connecting…');
  const summary = h('div', { class: 'route-summary', id: 'route-summary' });
  const schematicHost = h('div', { class: 'schematic-host', id: 'schematic' }, h('p', { class: 'loading' }, 'Loading the road…'));
  const detailHost = h('div', { class: 'pole-detail', id: 'pole-detail' });
  const polesHost = h('div', { class: 'panel-body table-scroll', id: 'poles' });
  const rolloutStatus = h('div', { id: 'rollout-status' });
  const rolloutControls = h('div', { id: 'rollout-controls' });
  const alarmsHost = h('div', { class: 'panel-body', id: 'route-alarms' });

  replace(container,
    routeHeader(routeId, routeId, 'overview', live),
    h('section', { class: 'panel panel-dark', 'aria-labelledby': 'sch-h' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'sch-h' }, 'The road now'), summary),
      schematicHost,
      h('div', { class: 'legend-row' }, legend(), h('span', { class: 'hint-dark' }, 'Select a pole for its details.')),
      detailHost),
    h('div', { class: 'columns' },
      h('section', { class: 'panel col-main', 'aria-labelledby': 'poles-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'poles-h' }, 'Poles')), polesHost),
      h('div', { class: 'col-side' },
        h('section', { class: 'panel', id: 'rollout-panel', 'aria-labelledby': 'rollout-h' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'rollout-h' }, 'Rollout')),
          h('div', { class: 'panel-body' }, rolloutStatus, rolloutControls)),
        h('section', { class: 'panel', 'aria-labelledby': 'ra-h' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'ra-h' }, 'Open alarms'),
            h('a', { href: '#/alarms', class: 'head-link' }, 'All alarms')),
          alarmsHost))));

  // --- Loading -------------------------------------------------------------------------------

  async function loadAll() {
    const [routes, layout, poles, versions, rollout, alarms] = await Promise.all([
      get('/routes'),
      get(`/routes/${seg(routeId)}/layout`).catch((e) => e),
      get(`/routes/${seg(routeId)}/poles`),
      get(`/routes/${seg(routeId)}/profiles`),
      get(`/routes/${seg(routeId)}/rollout`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
      get(`/alarms?route=${seg(routeId)}&open=true`),
    ]);
    const route = routes.items.find((r) => r.id === routeId);
    if (!route) throw new ApiError(404, 'not-found', `There is no route '${routeId}'.`);
    const title = container.querySelector('#route-name');
    if (title) title.textContent = route.name;
    document.title = `${route.name} · Lichtweg Central`;
    st.route = route;
    st.layout = layout instanceof Error ? { error: layout } : layout;
    st.poles = new Map(poles.items.map((p) => [p.pole, p]));
    st.versions = versions.items;
    // After a reconnect the new stream's events can come before these answers: keep the later.
    if (rollout) takeRollout(rollout); else st.rollout = null;
    st.alarms = alarms.items;
  }

  async function reloadAlarms() {
    try {
      st.alarms = (await get(`/alarms?route=${seg(routeId)}&open=true`)).items;
      renderAlarms();
      renderRoad();
    } catch (error) {
      replace(alarmsHost, errorBox(error, 'The alarms could not be loaded'));
    }
  }

  // --- Rendering -----------------------------------------------------------------------------

  const poleOrder = () => (st.layout && st.layout.poles ? st.layout.poles.map((p) => p.id) : st.route ? st.route.poles : []);
  const alarmMap = () => {
    const map = new Map();
    for (const a of st.alarms) {
      if (!a.open) continue;
      if (!a.acknowledgedAt) map.set(a.pole, 'new');
      else if (!map.has(a.pole)) map.set(a.pole, 'acknowledged');
    }
    return map;
  };
  const progressOf = (pole) => (st.rollout ? st.rollout.poles.find((p) => p.pole === pole) : null);

  function select(pole) {
    st.selected = st.selected === pole ? null : pole;
    renderRoad();
    renderPoles();
    if (st.selected) {
      const row = polesHost.querySelector(`tr[data-pole="${CSS.escape(st.selected)}"]`);
      if (row) row.scrollIntoView({ block: 'nearest' });
    }
  }

  function renderRoad() {
    if (!st.layout) return;
    if (st.layout.error) {
      replace(schematicHost, h('div', { class: 'alert alert-bad', role: 'alert' },
        h('strong', null, 'The road layout is not available. '),
        `GET /api/routes/${routeId}/layout: ${st.layout.error.message}`));
    } else {
      replace(schematicHost, schematic({
        layout: st.layout, states: st.poles, alarms: alarmMap(), selected: st.selected, onSelect: select,
      }));
    }
    // Summary: online, alarms, versions in force.
    const ids = poleOrder();
    const online = ids.filter((id) => st.poles.get(id)?.online).length;
    const versions = new Map();
    for (const id of ids) {
      const p = st.poles.get(id);
      const v = p ? p.profileVersion : undefined;
      const key = !p ? 'no report' : v === undefined || v === null ? 'no profile' : `v${v}`;
      versions.set(key, (versions.get(key) || 0) + 1);
    }
    const openAlarms = st.alarms.filter((a) => a.open).length;
    replace(summary,
      pill(`${online} of ${plural(ids.length, 'pole')} online`, online === ids.length ? 'ok' : online ? 'warn' : 'bad', { id: 'online-count' }),
      pill(openAlarms ? plural(openAlarms, 'open alarm') : 'no open alarms', openAlarms ? 'bad' : 'ok'),
      h('span', { class: 'versions', id: 'versions-in-force' }, 'In force: ',
        [...versions.entries()].map(([v, n]) => h('span', { class: 'version-chip' }, `${v} ×${n}`))));
    renderDetail();
  }

  function renderDetail() {
    if (!st.selected) { replace(detailHost); return; }
    const p = st.poles.get(st.selected) || {};
    const lay = st.layout && st.layout.poles ? st.layout.poles.find((x) => x.id === st.selected) : null;
    const prog = progressOf(st.selected);
    const alarms = st.alarms.filter((a) => a.pole === st.selected && a.open);
    replace(detailHost, h('div', { class: 'detail-card', dataset: { pole: st.selected } },
      h('div', { class: 'detail-title' },
        h('span', { class: 'swatch', 'aria-hidden': 'true' }, swatch(p)),
        h('strong', null, `Pole ${st.selected}`),
        lay ? h('span', { class: 'muted-dark' }, ` at ${number(lay.chainage, 1)} m · ${lay.lat.toFixed(5)}, ${lay.lon.toFixed(5)}`) : null),
      h('dl', { class: 'facts' },
        fact('Status', p.online === undefined ? 'no report yet' : p.online ? 'online' : 'offline'),
        fact('Level', fmtLevel(p.level)),
        fact('State', p.state || '—'),
        fact('Profile', p.profileVersion !== undefined && p.profileVersion !== null ? `version ${p.profileVersion}` : 'none (failsafe)'),
        fact('Rollout', prog ? prog.progress + (prog.reason ? ` (${prog.reason})` : '') : '—'),
        fact('Faults', p.faults && p.faults.length ? p.faults.join(', ') : 'none'),
        fact('Alarms', alarms.length ? alarms.map((a) => a.code).join(', ') : 'none'),
        fact('Firmware', p.firmware || '—'),
        fact('Last report', p.updatedAt ? ago(p.updatedAt) : '—')),
      h('div', { class: 'detail-actions' },
        h('a', { class: 'btn btn-small btn-on-dark', href: `#/routes/${seg(routeId)}/energy?pole=${seg(st.selected)}` }, 'Energy of this pole'),
        h('button', { type: 'button', class: 'btn btn-small btn-on-dark', onclick: () => select(st.selected) }, 'Close'))));
  }

  function renderPoles() {
    const ids = poleOrder();
    const chainage = new Map((st.layout && st.layout.poles ? st.layout.poles : []).map((p) => [p.id, p.chainage]));
    const alarms = alarmMap();
    const rows = ids.map((id) => {
      const p = st.poles.get(id) || {};
      const prog = progressOf(id);
      const tr = h('tr', {
        class: ['clickable', st.selected === id ? 'row-selected' : null],
        dataset: { pole: id, online: p.online ? 'true' : 'false', level: p.level ?? '', version: p.profileVersion ?? '' },
        onclick: () => select(id),
      },
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike', 'aria-pressed': st.selected === id ? 'true' : 'false' }, id)),
      h('td', { class: 'num' }, chainage.has(id) ? `${number(chainage.get(id), 1)} m` : '—'),
      h('td', null, p.online === undefined ? pill('no report', 'muted') : p.online ? pill('online', 'ok') : pill('offline', 'bad')),
      h('td', null, p.state || '—'),
      h('td', { class: ['num', 'level-cell', p.online ? null : 'muted'], title: p.online ? null : 'last reported level' },
        h('span', { class: 'swatch', 'aria-hidden': 'true' }, swatch(p)), fmtLevel(p.level)),
      h('td', { class: 'num' }, p.profileVersion !== undefined && p.profileVersion !== null ? `v${p.profileVersion}` : '—'),
      h('td', null, prog ? pill(prog.progress + (prog.reason ? `: ${prog.reason}` : ''), PROGRESS_TONE[prog.progress] || 'muted', { dataset: { progress: prog.progress } }) : '—'),
      h('td', null, (p.faults && p.faults.length) || alarms.has(id)
        ? h('span', { class: 'faults' }, (p.faults || []).join(', ') || 'alarm open') : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'when' }, p.updatedAt ? h('time', { datetime: p.updatedAt, title: p.updatedAt }, ago(p.updatedAt)) : '—'));
      return tr;
    });
    replace(polesHost, table('Poles of the route', [
      { label: 'Pole' }, { label: 'Chainage', class: 'num' }, { label: 'Status' }, { label: 'State' },
      { label: 'Level', class: 'num' }, { label: 'Version', class: 'num' }, { label: 'Rollout' }, { label: 'Faults' },
      { label: 'Reported' },
    ], rows, { id: 'poles-table' }));
  }

  function renderRolloutStatus() {
    const r = st.rollout;
    if (!r) {
      replace(rolloutStatus, h('p', { class: 'muted', id: 'rollout-none' }, 'No rollout of this route yet.'));
      return;
    }
    const stages = [['canary', 'Canaries'], ['soaking', 'Soak'], ['rolling-out', 'Route'], ['completed', 'Done']];
    const order = ['planned', 'canary', 'soaking', 'rolling-out', 'completed'];
    const at = order.indexOf(r.state);
    const total = r.poles.length;
    replace(rolloutStatus, h('div', { class: 'rollout', dataset: { state: r.state, version: r.version } },
      h('div', { class: 'rollout-title' },
        h('strong', null, `Version ${r.version}`),
        pill(STATE_LABEL[r.state] || r.state, STATE_TONE[r.state] || 'muted', { id: 'rollout-state', dataset: { state: r.state } })),
      r.state !== 'halted' ? h('ol', { class: 'stages', 'aria-label': 'Stages' }, stages.map(([key, label]) => {
        const i = order.indexOf(key);
        const skipped = key !== 'rolling-out' && key !== 'completed' && !r.canaries.length;
        const cls = skipped ? 'skipped' : i < at || (r.state === 'completed' && i === at) ? 'done' : i === at ? 'current' : null;
        return h('li', { class: cls, title: skipped ? 'no canaries: skipped' : null }, label);
      })) : null,
      h('div', { class: 'progress-row' },
        h('progress', { max: total, value: r.applied, id: 'rollout-progress', 'aria-label': 'Poles applied' }),
        h('span', { class: 'progress-text' }, `${r.applied} of ${total} applied`)),
      r.reason ? h('div', { class: 'alert alert-bad', role: 'alert', id: 'rollout-reason' }, r.reason) : null,
      h('ul', { class: 'rollout-poles', 'aria-label': 'Progress per pole' }, r.poles.map((p) =>
        h('li', { class: ['chip', `chip-${p.progress}`], dataset: { pole: p.pole, progress: p.progress }, title: p.reason || p.progress },
          h('span', { class: 'chip-id' }, p.pole), r.canaries.includes(p.pole) ? h('span', { class: 'chip-tag' }, 'canary') : null,
          h('span', { class: 'chip-state' }, p.progress)))),
      h('p', { class: 'sub' }, `Started by ${r.createdBy}, `, timeEl(r.createdAt))));
  }

  function renderRolloutControls(force = false) {
    const running = !!(st.rollout && RUNNING.has(st.rollout.state));
    if (!force && st.runningShown === running) return;
    st.runningShown = running;
    if (!may('engineer')) {
      replace(rolloutControls, h('p', { class: 'note' }, 'Your role (viewer) can watch rollouts. Engineers start, halt and roll back.'));
      return;
    }
    replace(rolloutControls, running ? haltForm() : h('div', null, startForm(), rollbackForm()));
  }

  function startForm() {
    if (!st.versions.length) return h('p', { class: 'note' }, 'No stored version yet: upload one in the ', h('a', { href: `#/routes/${seg(routeId)}/profile` }, 'profile editor'), '.');
    const version = h('select', { id: 'rollout-version' }, st.versions.map((v, i) =>
      h('option', { value: v.version, selected: i === 0 }, `v${v.version} · ${dateTime(v.createdAt)}${v.comment ? ' · ' + v.comment : ''}`)));
    const ids = poleOrder();
    const canaryBoxes = ids.map((id) => h('input', { type: 'checkbox', value: id, id: uid('can'), dataset: { canary: id } }));
    const soak = h('input', { type: 'number', id: 'rollout-soak', min: 0, step: 1, value: '600', inputmode: 'numeric' });
    const timeout = h('input', { type: 'number', id: 'rollout-timeout', min: 1, step: 1, value: '300', inputmode: 'numeric' });
    const message = h('div', { 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'rollout-start' }, 'Start rollout');
    const form = h('form', { class: 'stack', id: 'rollout-form', 'aria-label': 'Start a rollout' },
      h('h3', null, 'Start a rollout'),
      field('Version', version),
      h('fieldset', { class: 'canaries' },
        h('legend', null, 'Canary poles ', h('span', { class: 'hint' }, '(first; the rest follow once they applied it and stayed healthy)')),
        h('div', { class: 'canary-grid' }, canaryBoxes.map((box, i) => h('label', { class: 'check', for: box.id }, box, ids[i])))),
      h('div', { class: 'field-row' },
        field('Soak time (s)', soak, 'Healthy canaries for this long'),
        field('Ack timeout (s)', timeout, 'A canary must apply within this')),
      message, submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(message);
      submit.disabled = true;
      try {
        const body = {
          version: Number(version.value),
          canaries: canaryBoxes.filter((b) => b.checked).map((b) => b.value),
          soakSeconds: Number(soak.value),
          ackTimeoutSeconds: Number(timeout.value),
        };
        takeRollout(await post(`/routes/${seg(routeId)}/rollouts`, body));
        toast(`Rollout of version ${body.version} started`);
        rerenderRollout(true);
      } catch (error) {
        replace(message, errorBox(error, 'The rollout was not started'));
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  function haltForm() {
    const reason = h('input', { id: 'halt-reason', required: true, placeholder: 'e.g. lamp complaints from BB-012', maxlength: 500 });
    const message = h('div', { 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'btn btn-danger', id: 'rollout-halt' }, 'Halt rollout');
    const form = h('form', { class: 'stack', id: 'halt-form', 'aria-label': 'Halt the rollout' },
      h('h3', null, 'Halt the rollout'),
      h('p', { class: 'hint' }, 'Nothing more is published. Poles that applied the version keep it; roll back to undo.'),
      field('Reason', reason), message, submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(message);
      if (!reason.value.trim()) { replace(message, h('p', { class: 'alert alert-bad', role: 'alert' }, 'Give a reason: it goes into the audit log.')); return; }
      submit.disabled = true;
      try {
        takeRollout(await post(`/routes/${seg(routeId)}/rollout/halt`, { reason: reason.value.trim() }));
        toast('Rollout halted', 'warn');
        rerenderRollout(true);
      } catch (error) {
        replace(message, errorBox(error, 'The rollout was not halted'));
        submit.disabled = false;
      }
    });
    return form;
  }

  function rollbackForm() {
    const older = st.versions.slice(1);
    if (!older.length) return null;
    const latest = st.versions[0].version;
    const to = h('select', { id: 'rollback-version' }, older.map((v, i) =>
      h('option', { value: v.version, selected: i === 0 }, `v${v.version} · ${dateTime(v.createdAt)}${v.comment ? ' · ' + v.comment : ''}`)));
    const message = h('div', { 'aria-live': 'polite' });
    const confirmBox = h('div', { class: 'confirm', hidden: true });
    const ask = h('button', { type: 'button', class: 'btn btn-warn', id: 'rollback-ask' }, 'Roll back…');
    ask.addEventListener('click', () => {
      replace(confirmBox,
        h('p', null, `This stores version ${latest + 1} with the content of version ${to.value} and rolls it out to every pole at once.`),
        h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'btn btn-danger', id: 'rollback-confirm', onclick: doRollback }, `Roll back to v${to.value}`),
          h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => { confirmBox.hidden = true; ask.hidden = false; } }, 'Cancel')));
      confirmBox.hidden = false;
      ask.hidden = true;
    });
    async function doRollback(event) {
      event.currentTarget.disabled = true;
      replace(message);
      try {
        const started = await post(`/routes/${seg(routeId)}/rollback`, { toVersion: Number(to.value) });
        takeRollout(started);
        toast(`Rolling back: version ${started.version} has the content of version ${to.value}`, 'warn');
        st.versions = (await get(`/routes/${seg(routeId)}/profiles`)).items;
        rerenderRollout(true);
      } catch (error) {
        replace(message, errorBox(error, 'The rollback was refused'));
        confirmBox.hidden = true;
        ask.hidden = false;
      }
    }
    return h('div', { class: 'stack rollback', id: 'rollback-form' },
      h('h3', null, 'Roll back'),
      h('p', { class: 'hint' }, 'Puts an earlier version\'s content back in force as a new, newer version.'),
      field('Content of version', to), ask, confirmBox, message);
  }

  // Which of two views of a rollout is the later: a larger id is a later rollout; of the same
  // rollout, the later step. The answer to a request can arrive after the live event of a later
  // step (a canary nearby applies within milliseconds) and must not put the page back.
  function takeRollout(r) {
    const c = st.rollout;
    if (c && r && c.id != null && r.id != null) {
      if (r.id < c.id) return false;
      if (r.id === c.id && (ROLLOUT_STEP[r.state] ?? 0) < (ROLLOUT_STEP[c.state] ?? 0)) return false;
    }
    st.rollout = r;
    return true;
  }

  function rerenderRollout(forceControls = false) {
    renderRolloutStatus();
    renderRolloutControls(forceControls);
    renderPoles();
    renderDetail();
  }

  function renderAlarms() {
    const open = st.alarms.filter((a) => a.open);
    replace(alarmsHost, open.length
      ? alarmList(open, { onChange: reloadAlarms, id: 'route-alarm-table' })
      : h('p', { class: 'muted', id: 'no-alarms' }, 'No open alarms on this route.'));
  }

  function renderAll() {
    renderRoad();
    renderPoles();
    rerenderRollout(true);
    renderAlarms();
  }

  // --- Live events ---------------------------------------------------------------------------

  function scheduleRender() {
    if (st.frame) return;
    st.frame = requestAnimationFrame(() => {
      st.frame = 0;
      renderRoad();
      renderPoles();
    });
  }

  function setLive(state, text) {
    live.className = `live live-${state}`;
    live.textContent = text;
  }

  function connect() {
    if (st.closed) return;
    const source = new EventSource(`/api/routes/${seg(routeId)}/events`);
    st.source = source;
    let lost = false;
    source.onopen = async () => {
      setLive('on', 'Live');
      if (lost) {
        lost = false;
        try { await loadAll(); renderAll(); } catch { /* shown when the next request fails */ }
      }
    };
    source.onerror = () => {
      lost = true;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (the session ended, or the server went away): try again in a while.
        setLive('off', 'Not live — retrying');
        source.close();
        clearTimeout(st.retry);
        st.retry = setTimeout(connect, 5000);
      } else {
        setLive('connecting', 'Reconnecting…');
      }
    };
    source.addEventListener('pole', (e) => {
      const p = JSON.parse(e.data);
      st.poles.set(p.pole, p);
      scheduleRender();
    });
    source.addEventListener('rollout', (e) => {
      const r = JSON.parse(e.data);
      if (!takeRollout(r)) return;
      const newVersion = !st.versions.some((v) => v.version === r.version);
      rerenderRollout();
      if (newVersion) {
        get(`/routes/${seg(routeId)}/profiles`).then((x) => { st.versions = x.items; renderRolloutControls(true); }).catch(() => {});
      }
    });
    source.addEventListener('alarm', () => {
      reloadAlarms();
      refreshAlarmBadge();
    });
  }

  try {
    await loadAll();
  } catch (error) {
    replace(container, routeHeader(routeId, routeId, 'overview'), errorBox(error, 'The route could not be loaded'));
    return null;
  }
  renderAll();
  connect();
  // "Last report: 12 s ago" keeps counting.
  st.clock = setInterval(() => {
    for (const t of polesHost.querySelectorAll('time[datetime]')) t.textContent = ago(t.getAttribute('datetime'));
  }, 5000);

  return {
    destroy() {
      st.closed = true;
      if (st.source) st.source.close();
      clearTimeout(st.retry);
      clearInterval(st.clock);
      cancelAnimationFrame(st.frame);
    },
  };
}

function fact(label, value) {
  return [h('dt', null, label), h('dd', null, value)];
}

function swatch(p) {
  const svgNS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('viewBox', '0 0 12 12');
  svg.setAttribute('width', '12');
  svg.setAttribute('height', '12');
  const c = document.createElementNS(svgNS, 'circle');
  c.setAttribute('cx', '6'); c.setAttribute('cy', '6'); c.setAttribute('r', '5.5');
  c.setAttribute('fill', p.online ? levelColour(p.level) : '#cbd5e1');
  c.setAttribute('stroke', '#334155');
  svg.append(c);
  return svg;
}
