// The routes: each with its poles online, its open alarms and its latest profile version.

import { get, seg, mapLimited } from '../api.js';
import { h, replace, table, errorBox, pill } from '../dom.js';
import { may } from '../session.js';
import { plural, dateTime } from '../format.js';

export async function routesView(container) {
  document.title = 'Routes · Lichtweg Central';
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'loading' }, 'Loading routes…'));
  replace(container,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, 'Routes'), h('p', { class: 'lead' }, 'The pilot routes and what their poles report now.')),
      may('engineer') ? h('a', { class: 'btn', href: '#/new-route', id: 'new-route' }, 'New route…') : null),
    h('section', { class: 'panel' }, body));

  let routes;
  let alarms;
  try {
    [{ items: routes }, { items: alarms }] = await Promise.all([get('/routes'), get('/alarms?open=true')]);
  } catch (error) {
    replace(body, errorBox(error, 'The routes could not be loaded'));
    return null;
  }
  if (!routes.length) {
    replace(body, h('div', { class: 'empty' },
      h('p', null, 'No routes yet. A route is created by uploading its first profile.'),
      may('engineer') ? h('a', { class: 'btn btn-primary', href: '#/new-route' }, 'Upload a first profile') : null));
    return null;
  }
  // What each route's poles report, and its newest version (a few small requests per route).
  const details = await mapLimited(routes, 4, async (r) => {
    const [poles, versions] = await Promise.all([
      get(`/routes/${seg(r.id)}/poles`).then((x) => x.items).catch(() => null),
      get(`/routes/${seg(r.id)}/profiles`).then((x) => x.items).catch(() => null),
    ]);
    return { poles, latest: versions && versions[0] };
  });

  const rows = routes.map((r, i) => {
    const { poles, latest } = details[i];
    const online = poles ? poles.filter((p) => p.online).length : null;
    const open = alarms.filter((a) => a.route === r.id);
    const link = h('a', { href: `#/routes/${seg(r.id)}`, class: 'route-link', dataset: { route: r.id } }, r.name);
    return h('tr', { dataset: { route: r.id } },
      h('td', null, link, h('div', { class: 'sub' }, h('code', null, r.id))),
      h('td', { class: 'num' }, String(r.poles.length)),
      h('td', null, online === null ? '—'
        : pill(`${online} of ${plural(r.poles.length, 'pole')} online`, online === r.poles.length ? 'ok' : online === 0 ? 'bad' : 'warn')),
      h('td', null, open.length ? pill(plural(open.length, 'open alarm'), 'bad') : pill('none', 'ok')),
      h('td', null, latest ? h('span', null, `v${latest.version}`, h('div', { class: 'sub' }, `${dateTime(latest.createdAt)} · ${latest.author}`)) : '—'),
      h('td', { class: 'actions' },
        h('a', { href: `#/routes/${seg(r.id)}` }, 'Schematic'), ' · ',
        h('a', { href: `#/routes/${seg(r.id)}/profile` }, 'Profile'), ' · ',
        h('a', { href: `#/routes/${seg(r.id)}/energy` }, 'Energy')));
  });
  replace(body, table('Routes', [
    { label: 'Route' }, { label: 'Poles', class: 'num' }, { label: 'Online' }, { label: 'Alarms' },
    { label: 'Latest profile' }, { label: '' },
  ], rows, { id: 'routes-table' }));
  return null;
}
