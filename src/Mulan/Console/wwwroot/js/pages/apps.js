// Apps: the list, each with its kind, versions and published version.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDateTime, t } from '../i18n.js';
import { can, scope } from '../session.js';
import { badge, load, pageHeader, table } from '../ui.js';

export async function render(main) {
  const list = h('div');
  replace(main, pageHeader(t('nav.apps'), can('admin') ? h('a', { href: '/apps/new', class: 'btn btn-primary' }, t('apps.create')) : null),
    h('p', { class: 'lead' }, t('apps.lead')), list);
  await load(list, async () => {
    const { apps } = await get('/api/apps', scope());
    return table([
      { label: t('apps.name'), cell: (a) => h('a', { href: `/apps/${encodeURIComponent(a.id)}` }, a.name) },
      { label: t('apps.slug'), cell: (a) => h('code', null, a.slug) },
      { label: t('apps.kind'), cell: (a) => t(`apps.kind.${a.kind}`) },
      { label: t('apps.version'), cell: (a) => String(a.version), class: 'num' },
      { label: t('apps.published'), cell: (a) => (a.publishedVersion ? badge(t('apps.publishedVersion', { n: a.publishedVersion }), 'ok') : badge(t('apps.draft'))) },
      { label: t('apps.updated'), cell: (a) => fmtDateTime(a.updatedAt) },
    ], apps, { empty: t('apps.empty'), caption: t('nav.apps') });
  });
}
