// The audit log: who changed what, newest first, filtered by action.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDateTime, t } from '../i18n.js';
import { readPath } from '../session.js';
import { field, input, load, pageHeader, table } from '../ui.js';

export async function render(main) {
  const action = input({ name: 'action', placeholder: 'key.created' });
  const results = h('div');
  const refresh = () => load(results, async () => {
    const where = readPath('audit');
    const r = await get(where.path, { ...where.query, action: action.value.trim(), pageSize: 100 });
    return table([
      { label: t('audit.at'), cell: (e) => fmtDateTime(e.at) },
      { label: t('audit.actor'), cell: (e) => h('code', null, e.actor) },
      { label: t('audit.action'), cell: (e) => h('code', null, e.action) },
      { label: t('audit.target'), cell: (e) => `${e.targetType || ''} ${e.targetId || ''}`.trim() || '—' },
      { label: t('audit.workspace'), cell: (e) => e.workspace || '—' },
      { label: t('audit.details'), cell: (e) => (e.details ? h('details', null, h('summary', null, t('audit.show')), h('pre', { class: 'json' }, JSON.stringify(e.details, null, 2))) : '—') },
    ], r.entries, { empty: t('audit.empty'), caption: t('nav.audit') });
  });
  replace(main, pageHeader(t('nav.audit')), h('p', { class: 'lead' }, t('audit.lead')),
    h('form', { class: 'inline-form card', onSubmit: (e) => { e.preventDefault(); refresh(); }, 'aria-label': t('audit.filters') },
      field(t('audit.action'), action), h('button', { type: 'submit', class: 'btn btn-primary' }, t('audit.apply'))), results);
  await refresh();
}
