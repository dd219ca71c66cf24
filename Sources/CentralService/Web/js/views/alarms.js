// Alarms of every route: the poles' faults with their lifecycle (raised, acknowledged, cleared).
// Engineers acknowledge open ones; the list refreshes itself every 15 seconds.

import { get } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { plural } from '../format.js';
import { alarmTable } from './common.js';

export async function alarmsView(container, query) {
  document.title = 'Alarms · Lichtweg Central';
  const routeSelect = h('select', { id: 'alarm-route' }, h('option', { value: '' }, 'All routes'));
  const openOnly = h('input', { type: 'checkbox', id: 'alarm-open', checked: query.get('all') !== '1' });
  const count = h('span', { class: 'sub', id: 'alarm-count', role: 'status' });
  const body = h('div', { class: 'panel-body table-scroll' }, h('p', { class: 'loading' }, 'Loading alarms…'));
  replace(container,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Alarms'),
      h('p', { class: 'lead' }, 'Faults the poles report, such as a failed lamp or a stuck sensor. An alarm stays open until the pole reports the fault cleared.'))),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field-inline' }, h('label', { for: routeSelect.id }, 'Route'), routeSelect),
      h('label', { class: 'check', for: openOnly.id }, openOnly, 'Open alarms only'),
      count,
      h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => load() }, 'Refresh')),
    h('section', { class: 'panel' }, body));

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const params = new URLSearchParams();
    if (routeSelect.value) params.set('route', routeSelect.value);
    if (openOnly.checked) params.set('open', 'true');
    try {
      const { items } = await get(`/alarms?${params}`);
      if (mine !== seq) return;
      const sorted = items.slice().sort((a, b) => (a.open !== b.open ? (a.open ? -1 : 1) : b.raisedAt.localeCompare(a.raisedAt)));
      replace(count, plural(items.length, 'alarm'));
      replace(body, sorted.length ? alarmTable(sorted, { onChange: load, id: 'alarms-table' })
        : h('p', { class: 'empty', id: 'alarms-empty' }, openOnly.checked ? 'No open alarms. Every pole reports healthy.' : 'No alarms.'));
    } catch (error) {
      replace(body, errorBox(error, 'The alarms could not be loaded'));
    }
  }
  routeSelect.addEventListener('change', load);
  openOnly.addEventListener('change', load);
  try {
    const { items } = await get('/routes');
    for (const r of items) routeSelect.append(h('option', { value: r.id }, r.name));
    if (query.get('route')) routeSelect.value = query.get('route');
  } catch { /* the list below shows the error */ }
  await load();
  const timer = setInterval(load, 15000);
  return { destroy() { clearInterval(timer); } };
}
