// The audit log: who did what and when, newest first (GET /api/audit?limit=N). The server only
// ever appends to it.

import { get } from '../api.js';
import { h, replace, table, errorBox } from '../dom.js';
import { timeEl, plural } from '../format.js';

export async function auditView(container) {
  document.title = 'Audit log · Lichtweg Central';
  const limit = h('select', { id: 'audit-limit' }, [50, 100, 250, 1000].map((n) => h('option', { value: n, selected: n === 100 }, `last ${n}`)));
  const filter = h('input', { type: 'search', id: 'audit-filter', placeholder: 'actor, action, subject…' });
  const count = h('span', { class: 'sub', id: 'audit-count', role: 'status' });
  const body = h('div', { class: 'panel-body table-scroll' }, h('p', { class: 'loading' }, 'Loading…'));
  replace(container,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Audit log'),
      h('p', { class: 'lead' }, 'Every login and every change, with who made it and when.'))),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field-inline' }, h('label', { for: limit.id }, 'Show'), limit),
      h('div', { class: 'field-inline' }, h('label', { for: filter.id }, 'Filter'), filter),
      count,
      h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => load() }, 'Refresh')),
    h('section', { class: 'panel' }, body));

  let items = [];
  function render() {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? items.filter((e) => [e.actor, e.action, e.subject, e.detail].some((v) => (v || '').toLowerCase().includes(q))) : items;
    replace(count, q ? `${shown.length} of ${plural(items.length, 'entry', 'entries')}` : plural(items.length, 'entry', 'entries'));
    replace(body, shown.length ? table('Audit log', [{ label: 'When' }, { label: 'Who' }, { label: 'Action' }, { label: 'Subject' }, { label: 'Detail' }],
      shown.map((e) => h('tr', { dataset: { action: e.action } },
        h('td', { class: 'when' }, timeEl(e.at, { seconds: true })),
        h('td', null, h('strong', null, e.actor)),
        h('td', null, h('code', { class: `action action-${e.action.split('.')[0]}` }, e.action)),
        h('td', null, e.subject),
        h('td', { class: 'detail' }, e.detail || ''))), { id: 'audit-table' })
      : h('p', { class: 'empty' }, 'No entries.'));
  }
  async function load() {
    try {
      items = (await get(`/audit?limit=${limit.value}`)).items;
      render();
    } catch (error) {
      replace(body, errorBox(error, 'The audit log could not be loaded'));
    }
  }
  limit.addEventListener('change', load);
  filter.addEventListener('input', render);
  await load();
  return null;
}
