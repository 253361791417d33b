// A pilot: the working side first (scope board by priority, change requests, effort entry: pilot-work.js), then its
// report — summary figures, scope and acceptance, spend and effort, bake-offs and sign-offs, from the report's JSON
// form; the HTML and Markdown forms are a link away.
import { h, replace } from '../dom.js';
import { get, url } from '../api.js';
import { fmtDate, fmtDateTime, fmtNumber, fmtPercent, language, t, tOr } from '../i18n.js';
import { barChart } from '../charts.js';
import { badge, load, pageHeader, table } from '../ui.js';
import { workSections } from '../pilot-work.js';

const money = (amount, currency) => (amount === null || amount === undefined ? '—'
  : new Intl.NumberFormat(document.documentElement.lang, { style: 'currency', currency: currency || 'CNY' }).format(amount));

export async function render(main, { id }) {
  const body = h('div');
  const base = `/api/pilots/${encodeURIComponent(id)}/report`;
  replace(main, h('p', { class: 'breadcrumb' }, h('a', { href: '/pilots' }, t('nav.pilots'))), body);
  const reload = () => load(body, async () => {
    const path = `/api/pilots/${encodeURIComponent(id)}`;
    const [r, detail, { changes }] = await Promise.all([get(base, { format: 'json', lang: language() }), get(path), get(`${path}/changes`)]);
    const sum = r.summary;
    const c = sum.currency;
    const figure = (label, value) => h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value));
    const shares = (list, title) => (list && list.length ? barChart(list.map((x) => ({ label: x.name, value: x.amount, text: money(x.amount, c) })), { title }) : null);
    return [
      pageHeader(t('pilots.reportTitle', { name: sum.name }),
        h('a', { class: 'btn btn-secondary', href: url(base, { format: 'html', lang: language() }), target: '_blank', rel: 'noopener' }, t('pilots.openHtml')),
        h('a', { class: 'btn btn-secondary', href: url(base, { format: 'md', lang: language() }), download: `pilot-${id}.md` }, t('pilots.downloadMd'))),
      h('p', { class: 'lead' }, t('pilots.reportLead', { customer: sum.customer, start: fmtDate(sum.start), end: fmtDate(sum.end) }), ' ', badge(t(`pilots.status.${sum.status}`))),
      workSections(detail, changes, reload),
      h('h2', { class: 'section-title' }, t('pilots.reportSection')),
      h('div', { class: 'stats' },
        figure(t('pilots.contractValue'), money(sum.contractValue, c)),
        figure(t('pilots.costToDate'), money(sum.costToDate, c)),
        figure(t('pilots.margin'), `${money(sum.margin, c)} (${fmtPercent(sum.marginRatio)})`),
        figure(t('pilots.forecast'), money(sum.forecast, c)),
        figure(t('pilots.effortDays'), fmtNumber(sum.effortDays)),
        figure(t('pilots.requests'), fmtNumber(sum.requests))),
      h('section', { class: 'card' }, h('h2', null, t('pilots.acceptance')),
        table([
          { label: t('pilots.item'), cell: (i) => i.title },
          { label: t('pilots.priority'), cell: (i) => tOr(`pilots.priority.${i.priority}`, i.priority) },
          { label: t('pilots.acceptanceStatus'), cell: (i) => badge(tOr(`pilots.acceptance.${i.status}`, i.status), i.status === 'met' || i.status === 'passed' ? 'ok' : i.status === 'failed' || i.status === 'not_met' ? 'bad' : 'neutral') },
          { label: t('pilots.criteria'), cell: (i) => (i.criteria || []).map((x) => `${x.metric} ≥ ${x.threshold}${x.value !== undefined && x.value !== null ? ` (${fmtNumber(x.value, { maximumFractionDigits: 3 })})` : ''}`).join('; ') || '—' },
        ], r.acceptance.items, { empty: t('pilots.noScope') })),
      h('section', { class: 'card' }, h('h2', null, t('pilots.spend')),
        h('div', { class: 'charts' }, shares(r.spend.byVendor, t('pilots.byVendor')), shares(r.spend.byModel, t('pilots.byModel')), shares(r.spend.byApp, t('pilots.byApp'))),
        !r.spend.byVendor.length ? h('p', { class: 'empty' }, t('pilots.noSpend')) : null),
      h('section', { class: 'card' }, h('h2', null, t('pilots.effort')),
        table([
          { label: t('pilots.date'), cell: (e) => fmtDate(e.date) },
          { label: t('pilots.role'), cell: (e) => e.role },
          { label: t('pilots.days'), cell: (e) => fmtNumber(e.days), class: 'num' },
          { label: t('pilots.amount'), cell: (e) => money(e.amount, c), class: 'num' },
        ], r.effort.entries, { empty: t('pilots.noEffort') })),
      h('section', { class: 'card' }, h('h2', null, t('pilots.signoffs')),
        table([
          { label: t('pilots.side'), cell: (x) => tOr(`pilots.side.${x.side}`, x.side) },
          { label: t('pilots.signedBy'), cell: (x) => x.name },
          { label: t('pilots.signedAt'), cell: (x) => fmtDateTime(x.at) },
        ], r.signoffs, { empty: t('pilots.noSignoffs') })),
      h('p', { class: 'muted' }, t('pilots.generatedAt', { at: fmtDateTime(r.generatedAt) })),
    ];
  });
  await reload();
}
