// Lichtweg Central: the lighting engineers' web UI. One page; the part after '#' says which view.
//
//   #/login              log in
//   #/routes             the routes, with poles online and open alarms
//   #/routes/ID          a route: live schematic, poles, rollout control, open alarms
//   #/routes/ID/profile  the profile editor: check as you type, changes, preview, upload
//   #/routes/ID/energy   energy of the route and its poles, savings against full light
//   #/new-route          the editor for a route's first profile
//   #/alarms             alarms of every route, acknowledge
//   #/audit              the audit log
//
// Every view renders into its own container; a view that is left is destroyed (its live event
// stream closed, its timers stopped), and whatever it was still loading lands in a detached node.

import { get, post, setCsrf, onUnauthenticated } from './js/api.js';
import { h, replace, toast, errorBox, clearToasts } from './js/dom.js';
import { setUser, loggedIn, refreshAlarmBadge } from './js/session.js';
import { loginView } from './js/views/login.js';
import { routesView } from './js/views/routes.js';
import { routeView } from './js/views/route.js';
import { profileView } from './js/views/profile.js';
import { energyView } from './js/views/energy.js';
import { alarmsView } from './js/views/alarms.js';
import { auditView } from './js/views/audit.js';

const main = document.getElementById('main');
let active = null;
let badgeTimer = null;

const VIEWS = [
  [/^\/routes$/, 'routes', () => routesView],
  [/^\/routes\/([^/]+)$/, 'routes', (m) => (c, q) => routeView(c, decodeURIComponent(m[1]), q)],
  [/^\/routes\/([^/]+)\/profile$/, 'routes', (m) => (c, q) => profileView(c, decodeURIComponent(m[1]), q)],
  [/^\/routes\/([^/]+)\/energy$/, 'routes', (m) => (c, q) => energyView(c, decodeURIComponent(m[1]), q)],
  [/^\/new-route$/, 'routes', () => (c, q) => profileView(c, null, q)],
  [/^\/alarms$/, 'alarms', () => alarmsView],
  [/^\/audit$/, 'audit', () => auditView],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/routes';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  if (active && active.destroy) {
    try { active.destroy(); } catch { /* a view that fails to clean up must not block the next */ }
  }
  active = null;
  const { path, query } = parseHash();
  const container = h('div', { class: 'view' });
  main.replaceChildren(container);

  if (path === '/login' || !loggedIn()) {
    if (path !== '/login') {
      location.replace(`#/login?next=${encodeURIComponent(path)}`);
      return;
    }
    if (loggedIn()) { navigate(query.get('next') || '#/routes'); return; }
    document.title = 'Log in · Lichtweg Central';
    markNav(null);
    active = loginView(container, { onLogin: signedIn, next: query.get('next') });
    return;
  }

  refreshAlarmBadge();
  for (const [pattern, nav, make] of VIEWS) {
    const m = pattern.exec(path);
    if (!m) continue;
    markNav(nav);
    try {
      active = (await make(m)(container, query)) || null;
    } catch (error) {
      replace(container, errorBox(error, 'This page could not be loaded'));
    }
    if (active && !container.isConnected && active.destroy) active.destroy();
    main.focus({ preventScroll: true });
    return;
  }
  markNav(null);
  replace(container, h('section', { class: 'panel' }, h('h1', null, 'Not found'),
    h('p', null, 'There is no page here. ', h('a', { href: '#/routes' }, 'Go to the routes.'))));
}

function markNav(which) {
  for (const a of document.querySelectorAll('#mainnav a')) {
    if (a.dataset.nav === which) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function signedIn(me, next) {
  setCsrf(me.csrf);
  setUser(me);
  refreshAlarmBadge();
  clearInterval(badgeTimer);
  badgeTimer = setInterval(refreshAlarmBadge, 30000);
  navigate(next && next.startsWith('/') ? `#${next}` : '#/routes');
}

function signedOut() {
  clearToasts();
  setCsrf(null);
  setUser(null);
  clearInterval(badgeTimer);
}

async function logout() {
  try {
    await post('/logout');
  } catch (error) {
    if (error.status !== 401) { toast(`Logout failed: ${error.message}`, 'bad'); return; }
  }
  signedOut();
  location.hash = '#/login';
}

async function boot() {
  document.getElementById('logout').addEventListener('click', logout);
  onUnauthenticated(() => {
    if (!loggedIn()) return;
    signedOut();
    toast('Your session has ended. Please log in again.', 'warn');
    const { path } = parseHash();
    location.hash = `#/login?next=${encodeURIComponent(path)}`;
  });
  try {
    const me = await get('/me');
    setCsrf(me.csrf);
    setUser(me);
    refreshAlarmBadge();
    badgeTimer = setInterval(refreshAlarmBadge, 30000);
  } catch (error) {
    if (error.status !== 401) toast(error.message, 'bad');
  }
  window.addEventListener('hashchange', render);
  render();
}

boot();
