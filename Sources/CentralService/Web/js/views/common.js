// Parts shared by the route pages: the heading with the route's tabs, and the alarm table.

import { post, seg } from '../api.js';
import { h, table, pill, toast } from '../dom.js';
import { timeEl } from '../format.js';
import { may, refreshAlarmBadge } from '../session.js';

/** The route's heading: breadcrumb, name, id, tabs (Overview · Profile · Energy) and an extra slot. */
export function routeHeader(routeId, name, tab, extra) {
  const tabs = [
    ['overview', 'Overview', `#/routes/${seg(routeId)}`],
    ['profile', 'Profile', `#/routes/${seg(routeId)}/profile`],
    ['energy', 'Energy', `#/routes/${seg(routeId)}/energy`],
  ];
  return h('div', { class: 'route-head' },
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/routes' }, 'Routes'), ' / ', h('code', null, routeId)),
    h('div', { class: 'route-title' },
      h('h1', { id: 'route-name' }, name || routeId),
      extra || null),
    h('nav', { class: 'tabs', 'aria-label': 'Route pages' }, tabs.map(([key, label, href]) =>
      h('a', { href, class: ['tab', key === tab ? 'tab-active' : null], 'aria-current': key === tab ? 'page' : null, dataset: { tab: key } }, label))));
}

/** The alarm's state as a pill: open and new, acknowledged, or cleared. */
export function alarmState(a) {
  if (!a.open) return pill('cleared', 'muted');
  if (a.acknowledgedAt) return pill('acknowledged', 'warn');
  return pill('open', 'bad');
}

/** The Acknowledge button of an open, unacknowledged alarm (engineers only), else null. */
function ackButton(a, onChange) {
  if (!a.open || a.acknowledgedAt || !may('engineer')) return null;
  return h('button', {
    type: 'button', class: 'btn btn-small', dataset: { ack: a.id },
    'aria-label': `Acknowledge ${a.code} at ${a.pole}`,
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        await post(`/alarms/${seg(a.id)}/acknowledge`);
        toast(`Alarm ${a.code} at ${a.pole} acknowledged`);
        refreshAlarmBadge();
        if (onChange) onChange();
      } catch (error) {
        button.disabled = false;
        toast(`Could not acknowledge: ${error.message}`, 'bad');
      }
    },
  }, 'Acknowledge');
}

/** A route's open alarms as a compact list (for the side column of the route page). */
export function alarmList(alarms, { onChange, id } = {}) {
  return h('ul', { class: 'alarm-list', id }, alarms.map((a) =>
    h('li', { class: ['alarm-item', a.acknowledgedAt ? 'alarm-acked' : 'alarm-new'], dataset: { alarm: a.id, pole: a.pole, open: a.open ? 'true' : 'false', acknowledged: a.acknowledgedAt ? 'true' : 'false' } },
      h('div', { class: 'alarm-main' },
        h('div', null, h('strong', null, a.pole), ' ', h('code', null, a.code), a.sensor ? h('span', { class: 'sub' }, ` sensor ${a.sensor}`) : null, ' ', alarmState(a)),
        a.detail ? h('div', { class: 'sub' }, a.detail) : null,
        h('div', { class: 'sub' }, 'raised ', timeEl(a.raisedAt),
          a.acknowledgedAt ? [' · acknowledged by ', a.acknowledgedBy || '?', ' ', timeEl(a.acknowledgedAt)] : null)),
      ackButton(a, onChange))));
}

/**
 * Alarms as a table with an Acknowledge button for open, unacknowledged ones (engineers).
 * `onChange` runs after an acknowledgement.
 */
export function alarmTable(alarms, { showRoute = true, onChange, id } = {}) {
  const columns = [
    { label: 'Raised' }, showRoute ? { label: 'Route' } : null, { label: 'Pole' }, { label: 'Fault' },
    { label: 'State' }, { label: 'Acknowledged' }, { label: 'Cleared' }, { label: '' },
  ].filter(Boolean);
  const rows = alarms.map((a) => {
    const action = ackButton(a, onChange);
    return h('tr', { dataset: { alarm: a.id, pole: a.pole, open: a.open ? 'true' : 'false', acknowledged: a.acknowledgedAt ? 'true' : 'false' } },
      h('td', null, timeEl(a.raisedAt)),
      showRoute ? h('td', null, h('a', { href: `#/routes/${seg(a.route)}` }, a.route)) : null,
      h('td', null, h('strong', null, a.pole)),
      h('td', null, h('code', null, a.code), a.sensor ? h('span', { class: 'sub' }, ` sensor ${a.sensor}`) : null,
        a.detail ? h('div', { class: 'sub' }, a.detail) : null),
      h('td', null, alarmState(a)),
      h('td', null, a.acknowledgedAt ? h('span', null, a.acknowledgedBy || '?', h('div', { class: 'sub' }, timeEl(a.acknowledgedAt))) : '—'),
      h('td', null, a.clearedAt ? timeEl(a.clearedAt) : '—'),
      h('td', { class: 'actions' }, action));
  });
  return table('Alarms', columns, rows, { id });
}
