// The digital employee's schedules: each published assistant's cron schedules with the next occurrence, the last
// firing and the latest run. A schedule is changed by editing the app (a new version, published).
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDateTime, t } from '../i18n.js';
import { scope } from '../session.js';
import { badge, load, pageHeader, statusBadge, table } from '../ui.js';

export async function render(main) {
  const list = h('div');
  replace(main, pageHeader(t('nav.schedules')), h('p', { class: 'lead' }, t('schedules.lead')), list);
  await load(list, async () => {
    const { schedules } = await get('/api/schedules', scope());
    return table([
      { label: t('schedules.app'), cell: (s) => h('a', { href: `/apps/${encodeURIComponent(s.app.id)}` }, s.app.name, h('span', { class: 'muted' }, ` v${s.app.version}`)) },
      { label: t('schedules.name'), cell: (s) => h('strong', null, s.name) },
      { label: t('schedules.when'), cell: (s) => h('span', null, h('code', null, s.cron), h('span', { class: 'muted' }, ` ${s.timeZone}`)) },
      { label: t('schedules.next'), cell: (s) => (s.next ? fmtDateTime(s.next) : '—') },
      { label: t('schedules.lastRun'), cell: (s) => (s.lastRun
        ? h('span', null, h('a', { href: `/runs/${encodeURIComponent(s.lastRun.id)}` }, fmtDateTime(s.lastRun.createdAt)), ' ', statusBadge('runs.status', s.lastRun.status))
        : h('span', { class: 'muted' }, t('schedules.never'))) },
      { label: t('schedules.input'), cell: (s) => h('span', { class: 'clip', title: s.input }, s.input) },
      { label: t('schedules.webhook'), cell: (s) => (s.webhook ? badge(t('schedules.delivers'), 'ok') : '—') },
    ], schedules, { empty: t('schedules.empty'), caption: t('nav.schedules') });
  });
}
