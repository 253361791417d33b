// The usage explorer: filters, totals, the records, and the same selection as CSV.
import { h, replace } from '../dom.js';
import { get, url } from '../api.js';
import { fmtDateTime, fmtMoney, fmtMs, fmtNumber, t } from '../i18n.js';
import { readPath } from '../session.js';
import { badge, field, input, load, pageHeader, table } from '../ui.js';

export async function render(main) {
  const key = input({ name: 'key' });
  const model = input({ name: 'model' });
  const app = input({ name: 'app' });
  const from = input({ type: 'date', name: 'from' });
  const to = input({ type: 'date', name: 'to' });
  const results = h('div');
  const csv = h('a', { class: 'btn btn-secondary', href: '/api/usage?format=csv', download: 'usage.csv' }, t('usage.csv'));
  const query = () => ({
    key: key.value.trim(), model: model.value.trim(), app: app.value.trim(),
    from: from.value ? new Date(`${from.value}T00:00:00Z`).toISOString() : '',
    to: to.value ? new Date(new Date(`${to.value}T00:00:00Z`).getTime() + 86400000).toISOString() : '',
    ...readPath('usage').query,
  });
  const refresh = () => {
    csv.setAttribute('href', url(readPath('usage').path, { ...query(), format: 'csv' }));
    return load(results, async () => {
      const r = await get(readPath('usage').path, { ...query(), pageSize: 100 });
      return [
        h('div', { class: 'stats' },
          h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, t('usage.requests')), h('div', { class: 'stat-value' }, fmtNumber(r.totals.requests))),
          h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, t('usage.tokens')), h('div', { class: 'stat-value' }, fmtNumber(r.totals.inputTokens + r.totals.outputTokens))),
          (r.totals.costs || [r.totals.cost]).filter(Boolean).map((c) => h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, t('usage.cost')), h('div', { class: 'stat-value' }, fmtMoney(c))))),
        h('p', { class: 'muted' }, t('usage.showing', { shown: fmtNumber(r.records.length), count: fmtNumber(r.count) })),
        table([
          { label: t('usage.at'), cell: (x) => fmtDateTime(x.at) },
          { label: t('usage.key'), cell: (x) => h('code', null, x.key) },
          { label: t('usage.model'), cell: (x) => x.model },
          { label: t('usage.provider'), cell: (x) => x.provider || '—' },
          { label: t('usage.tokensInOut'), cell: (x) => `${fmtNumber(x.inputTokens)} / ${fmtNumber(x.outputTokens)}`, class: 'num' },
          { label: t('usage.cost'), cell: (x) => fmtMoney(x.cost), class: 'num' },
          { label: t('usage.latency'), cell: (x) => fmtMs(x.latencyMs), class: 'num' },
          { label: t('usage.status'), cell: (x) => (x.httpStatus >= 400 ? badge(String(x.httpStatus), 'bad') : badge(String(x.httpStatus ?? x.status), 'ok')) },
        ], r.records, { empty: t('usage.empty'), caption: t('nav.usage') }),
      ];
    });
  };
  const submit = (e) => { e.preventDefault(); refresh(); };
  replace(main, pageHeader(t('nav.usage'), csv), h('p', { class: 'lead' }, t('usage.lead')),
    h('form', { class: 'inline-form card', onSubmit: submit, 'aria-label': t('usage.filters') },
      field(t('usage.key'), key), field(t('usage.model'), model), field(t('usage.app'), app), field(t('usage.from'), from), field(t('usage.to'), to),
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('usage.apply'))), results);
  await refresh();
}
