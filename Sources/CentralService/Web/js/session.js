// Who is logged in, and what their role allows. The server decides (every change is checked
// there); the UI only hides what a role may not do, so that nobody is offered a button that fails.

import { get } from './api.js';

const ROLES = ['viewer', 'engineer', 'admin'];

export const session = { name: null, role: null };

export function setUser(me) {
  session.name = me ? me.name : null;
  session.role = me ? me.role : null;
  const box = document.getElementById('userbox');
  const nav = document.getElementById('mainnav');
  if (box) box.hidden = !me;
  if (nav) nav.hidden = !me;
  if (me) {
    document.getElementById('user-name').textContent = me.name;
    const role = document.getElementById('user-role');
    role.textContent = me.role;
    role.className = `role-badge role-${me.role}`;
  }
}

export const loggedIn = () => session.name !== null;

/** True if the user's role is `role` or above (viewer < engineer < admin). */
export function may(role) {
  return session.role !== null && ROLES.indexOf(session.role) >= ROLES.indexOf(role);
}

/** The number of open alarms in the navigation bar. */
export async function refreshAlarmBadge() {
  const badge = document.getElementById('nav-alarm-count');
  if (!badge || !loggedIn()) return;
  try {
    const { items } = await get('/alarms?open=true');
    const unacknowledged = items.filter((a) => !a.acknowledgedAt).length;
    badge.hidden = items.length === 0;
    badge.textContent = String(items.length);
    badge.classList.toggle('count-badge-hot', unacknowledged > 0);
    badge.setAttribute('aria-label', `${items.length} open, ${unacknowledged} not acknowledged`);
  } catch {
    // The badge is a convenience; the alarms page shows the error.
  }
}
