// The console: a shell (navigation, workspace picker, language switch) around one page per route. History
// routing: the server answers the shell for every console path, so links and reloads land on their page.
import { h, replace } from './dom.js';
import { initLanguage, t } from './i18n.js';
import { configure, post } from './api.js';
import { can, displayName, isAdmin, loadSession, session, useWorkspace } from './session.js';
import { alertBox, languagePicker, loading, select } from './ui.js';

const page = (name) => () => import(`./pages/${name}.js`);

// `role`: the least workspace role that sees the entry; `admin`: only instance administrators.
const NAV = [
  { path: '/', key: 'nav.overview', load: page('overview'), role: 'viewer' },
  { path: '/keys', key: 'nav.keys', load: page('keys'), role: 'viewer' },
  { path: '/knowledge', key: 'nav.knowledge', load: page('knowledge'), role: 'viewer' },
  { path: '/apps', key: 'nav.apps', load: page('apps'), role: 'viewer' },
  { path: '/runs', key: 'nav.runs', load: page('runs'), role: 'viewer' },
  { path: '/approvals', key: 'nav.approvals', load: page('approvals'), role: 'viewer' },
  { path: '/schedules', key: 'nav.schedules', load: page('schedules'), role: 'viewer' },
  { path: '/evaluations', key: 'nav.evaluations', load: page('evaluations'), role: 'viewer' },
  { path: '/pilots', key: 'nav.pilots', load: page('pilots'), role: 'viewer' },
  { path: '/providers', key: 'nav.providers', load: page('providers'), admin: true },
  { path: '/usage', key: 'nav.usage', load: page('usage'), role: 'viewer' },
  { path: '/audit', key: 'nav.audit', load: page('audit'), role: 'viewer' },
  { path: '/settings/users', key: 'nav.users', load: page('users'), role: 'admin' },
  { path: '/settings/workspace', key: 'nav.workspaceSettings', load: page('settings-workspace'), admin: true },
  { path: '/settings/prices', key: 'nav.prices', load: page('settings-prices'), admin: true },
  { path: '/settings/exchange-rates', key: 'nav.rates', load: page('settings-rates'), admin: true },
];

const ROUTES = [
  { pattern: '/signin', load: page('signin'), bare: true },
  { pattern: '/invite/:token', load: page('invite'), bare: true },
  { pattern: '/knowledge/:id', load: page('knowledge-base'), nav: '/knowledge' },
  { pattern: '/apps/new', load: page('app-new'), nav: '/apps' },
  { pattern: '/apps/:id', load: page('app'), nav: '/apps' },
  { pattern: '/runs/:id', load: page('run'), nav: '/runs' },
  { pattern: '/pilots/:id', load: page('pilot'), nav: '/pilots' },
  { pattern: '/overview', load: page('overview'), nav: '/' },
  ...NAV.map((n) => ({ pattern: n.path, load: n.load, nav: n.path })),
];

function match(pathname) {
  for (const route of ROUTES) {
    const want = route.pattern.split('/');
    const got = pathname.replace(/\/+$/, '').split('/');
    if (route.pattern === '/' ? pathname === '/' : want.length === got.length && want.every((w, i) => w.startsWith(':') || w === got[i])) {
      const params = {};
      want.forEach((w, i) => { if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(got[i]); });
      return { route, params };
    }
  }
  return null;
}

export function navigate(path, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, '', path); else history.pushState(null, '', path);
  render();
}

function visible(entry) {
  return entry.admin ? isAdmin() : can(entry.role);
}

function workspacePicker() {
  const options = session.workspaces.map((w) => ({ value: w.id, label: w.name, selected: session.workspace && session.workspace.id === w.id }));
  if (isAdmin()) options.unshift({ value: '', label: t('shell.allWorkspaces'), selected: !session.workspace });
  const picker = select(options, { id: 'workspace', 'aria-label': t('shell.workspace'), class: 'compact' });
  picker.addEventListener('change', () => {
    useWorkspace(picker.value || null);
    render();
  });
  return picker;
}

async function signOut() {
  try {
    await post('/api/auth/logout');
  } finally {
    session.me = null;
    navigate('/signin');
  }
}

function shell(activeNav, main) {
  const role = isAdmin() ? t('role.instanceAdmin') : session.role ? t(`role.${session.role}`) : '';
  return h('div', { class: 'shell' },
    h('a', { href: '#main', class: 'skip-link' }, t('shell.skip')),
    h('header', { class: 'topbar' },
      h('a', { href: '/', class: 'brand' }, h('img', { src: '/assets/icon.svg', alt: '', width: 24, height: 24 }), t('shell.brand')),
      h('div', { class: 'topbar-controls' },
        workspacePicker(),
        languagePicker(render),
        h('span', { class: 'whoami' }, displayName(), role ? h('span', { class: 'muted' }, ` · ${role}`) : null),
        h('button', { type: 'button', class: 'btn btn-link', onClick: signOut }, t('shell.signOut')))),
    h('nav', { class: 'sidebar', 'aria-label': t('shell.navigation') },
      h('ul', null, NAV.filter(visible).map((n) => h('li', null,
        h('a', { href: n.path, 'aria-current': n.path === activeNav ? 'page' : null }, t(n.key)))))),
    h('main', { id: 'main', tabindex: '-1' }, main),
    h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' }));
}

let renderCount = 0;
export async function render() {
  const root = document.getElementById('app');
  const mine = ++renderCount;
  const found = match(location.pathname);
  if (!found) {
    replace(root, h('main', { class: 'bare' }, h('h1', null, t('error.notFoundTitle')), h('p', null, h('a', { href: '/' }, t('error.backHome')))));
    return;
  }
  const { route, params } = found;
  if (!route.bare && !session.me) {
    await loadSession().catch(() => null);
    if (!session.me) {
      navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replaceState: true });
      return;
    }
  }
  const main = h('div', { class: 'page' }, loading());
  replace(root, route.bare ? h('main', { class: 'bare', id: 'main' }, main) : shell(route.nav, main));
  document.title = t('shell.title');
  try {
    const module = await route.load();
    if (mine !== renderCount) return;
    await module.render(main, params, { navigate, render });
  } catch (e) {
    if (mine === renderCount) replace(main, alertBox(e));
  }
}

// Same-origin links change the page without reloading it.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (href.startsWith('#')) return;
  const to = new URL(a.href);
  if (to.origin !== location.origin || to.pathname.startsWith('/api/') || to.pathname.startsWith('/chat/') || to.pathname.startsWith('/openapi')) return;
  e.preventDefault();
  navigate(to.pathname + to.search);
});
window.addEventListener('popstate', render);

configure({
  unauthorized: () => {
    if (session.me && !location.pathname.startsWith('/signin')) {
      session.me = null;
      navigate(`/signin?next=${encodeURIComponent(location.pathname)}`, { replaceState: true });
    }
  },
});

await initLanguage();
await render();
