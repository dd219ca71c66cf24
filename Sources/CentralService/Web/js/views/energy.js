// Energy of a route and of its poles over a period, from the quarter-hour telemetry the poles
// report (GET /api/routes/ID/energy, GET /api/poles/ID/energy), with the savings against the same
// lamps at full light from switch-on to switch-off (fullLightWh, savingsVsFull).

import { get, seg, mapLimited } from '../api.js';
import { h, replace, errorBox, uid } from '../dom.js';
import { timeBarChart, categoryBarChart } from '../charts.js';
import { energy as fmtEnergy, ratio, number, dateTime } from '../format.js';
import { routeHeader } from './common.js';

const PERIODS = [
  { key: '6h', label: '6 hours', hours: 6, bucket: 900 },
  { key: '24h', label: '24 hours', hours: 24, bucket: 900 },
  { key: '7d', label: '7 days', hours: 24 * 7, bucket: 3600 },
  { key: '30d', label: '30 days', hours: 24 * 30, bucket: 86400 },
];

export async function energyView(container, routeId, query) {
  document.title = `${routeId} · Energy · Lichtweg Central`;
  const st = { period: PERIODS[1], pole: query.get('pole') || '', route: null, seq: 0 };

  const periodGroup = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Period' });
  for (const p of PERIODS) {
    const id = uid('period');
    const input = h('input', { type: 'radio', name: 'period', id, value: p.key, checked: p === st.period });
    input.addEventListener('change', () => { st.period = p; load(); });
    periodGroup.append(input, h('label', { for: id }, p.label));
  }
  const refresh = h('button', { type: 'button', class: 'btn btn-quiet', id: 'energy-refresh', onclick: () => load() }, 'Refresh');
  const cards = h('div', { class: 'cards', id: 'energy-cards' });
  const routeChart = h('div', { class: 'chart-host', id: 'route-energy-chart' });
  const poleTotals = h('div', { class: 'chart-host', id: 'pole-totals-chart' });
  const poleSelect = h('select', { id: 'energy-pole' });
  const poleChart = h('div', { class: 'chart-host', id: 'pole-energy-chart' });
  const periodText = h('span', { class: 'sub', id: 'energy-period' });

  replace(container,
    routeHeader(routeId, routeId, 'energy'),
    h('div', { class: 'toolbar' }, h('span', { class: 'toolbar-label' }, 'Period'), periodGroup, periodText, refresh),
    cards,
    h('section', { class: 'panel', 'aria-labelledby': 're-h' },
      h('div', { class: 'panel-head' }, h('h2', { id: 're-h' }, 'Route energy over time')),
      h('div', { class: 'panel-body' }, routeChart)),
    h('section', { class: 'panel', 'aria-labelledby': 'pe-h' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'pe-h' }, 'Energy per pole'),
        h('div', { class: 'field-inline' }, h('label', { for: poleSelect.id }, 'Pole'), poleSelect)),
      h('div', { class: 'panel-body' },
        h('p', { class: 'hint' }, 'Totals over the period; select a bar or a pole for its energy over time.'),
        poleTotals, poleChart)));

  poleSelect.addEventListener('change', () => { st.pole = poleSelect.value; loadPole(); markSelected(); });

  function range() {
    const to = new Date();
    const from = new Date(to.getTime() - st.period.hours * 3600e3);
    return { from, to };
  }
  const isoSec = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

  /** Quarter-hour buckets summed into bars of the period's size (aligned to local hours/days). */
  function bars(buckets, from, to, size) {
    const sums = new Map();
    for (const b of buckets) {
      const t = new Date(b.start);
      let key;
      if (size === 86400) { key = new Date(t); key.setHours(0, 0, 0, 0); }
      else if (size === 3600) { key = new Date(t); key.setMinutes(0, 0, 0); }
      else key = t;
      const k = key.getTime();
      const cur = sums.get(k) || { wh: 0, det: 0 };
      cur.wh += b.energyWh;
      cur.det += b.detections;
      sums.set(k, cur);
    }
    return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => ({
      start: new Date(k), value: v.wh,
      title: `${dateTime(new Date(k))}: ${fmtEnergy(v.wh)}, ${number(v.det, 0)} detections`,
    }));
  }

  function chart(host, data, label, height = 260) {
    const { from, to } = { from: new Date(data.from), to: new Date(data.to) };
    const size = st.period.bucket;
    const start = new Date(from);
    if (size === 86400) start.setHours(0, 0, 0, 0);
    else if (size === 3600) start.setMinutes(0, 0, 0);
    replace(host, timeBarChart({
      bars: bars(data.buckets, from, to, size), from: start, to, bucketSeconds: size, unit: 'Wh', label, height,
    }));
  }

  function card(label, value, sub, id, tone) {
    return h('div', { class: ['card', tone ? `card-${tone}` : null], id },
      h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value), sub ? h('div', { class: 'card-sub' }, sub) : null);
  }

  let totals = [];
  function markSelected() {
    renderTotals();
  }
  function renderTotals() {
    if (!totals.length) { replace(poleTotals, h('p', { class: 'muted' }, 'No poles.')); return; }
    replace(poleTotals, categoryBarChart({
      items: totals.map((t) => ({
        label: t.pole, value: t.wh, selected: t.pole === st.pole,
        title: t.error ? `${t.pole}: ${t.error}` : `${t.pole}: ${fmtEnergy(t.wh)}`,
      })),
      unit: 'Wh', label: 'Energy per pole over the period',
      onSelect: (pole) => { st.pole = pole; poleSelect.value = pole; loadPole(); renderTotals(); },
    }));
  }

  async function loadPole() {
    if (!st.pole) { replace(poleChart); return; }
    const { from, to } = range();
    const mine = st.seq;
    replace(poleChart, h('p', { class: 'loading' }, `Loading ${st.pole}…`));
    try {
      const data = await get(`/poles/${seg(st.pole)}/energy?from=${isoSec(from)}&to=${isoSec(to)}`);
      if (mine !== st.seq) return;
      const figure = h('figure', { class: 'chart-figure', dataset: { pole: st.pole } },
        h('div', { class: 'chart-figure-host' }),
        h('figcaption', null, `Pole ${st.pole}: ${fmtEnergy(data.totalWh)} in the period`));
      chart(figure.firstChild, data, `Energy of pole ${st.pole} over time`, 200);
      replace(poleChart, h('h3', null, `Pole ${st.pole} over time`), figure);
    } catch (error) {
      replace(poleChart, errorBox(error, `The energy of ${st.pole} could not be loaded`));
    }
  }

  async function load() {
    const mine = ++st.seq;
    const { from, to } = range();
    replace(periodText, `${dateTime(from)} – ${dateTime(to)}`);
    replace(routeChart, h('p', { class: 'loading' }, 'Loading…'));
    let data;
    try {
      if (!st.route) {
        const routes = await get('/routes');
        st.route = routes.items.find((r) => r.id === routeId) || { id: routeId, name: routeId, poles: [] };
        const title = container.querySelector('#route-name');
        if (title) title.textContent = st.route.name;
        replace(poleSelect, h('option', { value: '' }, '—'), st.route.poles.map((p) => h('option', { value: p, selected: p === st.pole }, p)));
      }
      data = await get(`/routes/${seg(routeId)}/energy?from=${isoSec(from)}&to=${isoSec(to)}`);
    } catch (error) {
      replace(routeChart, errorBox(error, 'The energy could not be loaded'));
      replace(cards);
      return;
    }
    if (mine !== st.seq) return;
    const detections = data.buckets.reduce((n, b) => n + b.detections, 0);
    // With no report at all the server's figure is 1 − 0/full = 100 %: nothing is known.
    const known = data.savingsVsFull !== null && data.savingsVsFull !== undefined && data.buckets.length > 0;
    // The savings compare the telemetry with full light over the whole period: with reports for
    // only part of it, the figure says more than it knows. Say so.
    const expected = Math.round((new Date(data.to) - new Date(data.from)) / 900e3);
    const coverage = expected > 0 ? new Set(data.buckets.map((b) => b.start)).size / expected : 1;
    const partial = coverage < 0.9;
    replace(cards,
      card('Energy used', fmtEnergy(data.totalWh), `reports for ${data.buckets.length} of ${expected} quarter hours`, 'card-energy'),
      card('At full light', data.fullLightWh !== null && data.fullLightWh !== undefined ? fmtEnergy(data.fullLightWh) : 'not known',
        'the same lamps at 100 % from switch-on to switch-off', 'card-full'),
      card('Savings vs full light', known ? ratio(data.savingsVsFull) : 'not known',
        !data.buckets.length ? 'no reports from the poles in this period'
          : !known ? 'needs a stored profile to compare with'
          : partial ? `overstated: the poles reported for only ${ratio(coverage, 0)} of the period`
            : 'against the same lamps at full light',
        'card-savings', known ? (partial || data.savingsVsFull < 0 ? 'warn' : 'ok') : null),
      card('Detections', number(detections, 0), 'road users seen by the sensors', 'card-detections'));
    chart(routeChart, data, `Energy of route ${routeId} over time`);

    totals = await mapLimited(st.route.poles, 6, async (pole) => {
      try {
        const d = await get(`/poles/${seg(pole)}/energy?from=${isoSec(from)}&to=${isoSec(to)}`);
        return { pole, wh: d.totalWh };
      } catch (error) {
        return { pole, wh: 0, error: error.message };
      }
    });
    if (mine !== st.seq) return;
    renderTotals();
    loadPole();
  }

  await load();
  const timer = setInterval(load, 60000);
  return { destroy() { clearInterval(timer); } };
}
