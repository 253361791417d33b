// The digital employee's runs, newest first, filtered by status.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDateTime, fmtMoney, t } from '../i18n.js';
import { load, pageHeader, select, statusBadge, table } from '../ui.js';

const STATUSES = ['running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'];

export async function render(main) {
  const list = h('div');
  const status = select([{ value: '', label: t('runs.allStatuses') }, ...STATUSES.map((s) => ({ value: s, label: t(`runs.status.${s}`) }))], { name: 'status' });
  const refresh = () => load(list, async () => {
    const { runs } = await get('/api/runs', { status: status.value, limit: 100 });
    return table([
      { label: t('runs.run'), cell: (r) => h('a', { href: `/runs/${encodeURIComponent(r.id)}`, class: 'mono' }, r.id) },
      { label: t('runs.app'), cell: (r) => r.app },
      { label: t('runs.statusLabel'), cell: (r) => statusBadge('runs.status', r.status) },
      { label: t('runs.origin'), cell: (r) => t(`runs.origin.${r.origin}`) },
      { label: t('runs.steps'), cell: (r) => String(r.stepCount ?? '—'), class: 'num' },
      { label: t('runs.cost'), cell: (r) => fmtMoney(r.cost), class: 'num' },
      { label: t('runs.created'), cell: (r) => fmtDateTime(r.createdAt) },
    ], runs, { empty: t('runs.empty'), caption: t('nav.runs') });
  });
  status.addEventListener('change', refresh);
  replace(main, pageHeader(t('nav.runs')), h('p', { class: 'lead' }, t('runs.lead')),
    h('div', { class: 'filters' }, h('label', { for: 'run-status' }, t('runs.statusLabel')), Object.assign(status, { id: 'run-status' })), list);
  await refresh();
}
