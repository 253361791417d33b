// Overview: spend today and this month by provider, model, app and key; requests, error rate and latency p95.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDate, fmtMoney, fmtMs, fmtNumber, fmtPercent, t } from '../i18n.js';
import { readPath } from '../session.js';
import { barChart, columnChart } from '../charts.js';
import { load, pageHeader } from '../ui.js';

const startOfDay = (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).toISOString();
const startOfMonth = (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString();

function stat(label, value, detail) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value), detail ? h('div', { class: 'muted' }, detail) : null);
}

function bars(summary, title) {
  const groups = (summary.groups || []).filter((g) => g.requests > 0).sort((a, b) => (b.cost?.amount ?? 0) - (a.cost?.amount ?? 0)).slice(0, 8);
  return groups.length ? barChart(groups.map((g) => ({ label: g.label || g.key, value: g.cost?.amount ?? 0, text: fmtMoney(g.cost) })), { title })
    : h('figure', { class: 'chart' }, h('figcaption', null, title), h('p', { class: 'empty' }, t('overview.noData')));
}

export async function render(main) {
  const body = h('div');
  replace(main, pageHeader(t('nav.overview')), body);
  await load(body, async () => {
    const now = new Date();
    const where = readPath('usage/summary');
    const summary = (from, by) => get(where.path, { ...where.query, from, by });
    let today;
    try {
      today = await summary(startOfDay(now), 'provider');
    } catch (e) {
      if (e.status === 404) return h('div', { class: 'card empty-state' }, h('h2', null, t('overview.unavailableTitle')), h('p', null, t('overview.unavailable')));
      throw e;
    }
    const [provider, model, app, key, day] = await Promise.all(['provider', 'model', 'app', 'key', 'day'].map((by) => summary(startOfMonth(now), by)));
    const m = provider.totals;
    return [
      h('div', { class: 'stats' },
        stat(t('overview.spendToday'), fmtMoney(today.totals.cost), t('overview.requestsN', { n: fmtNumber(today.totals.requests) })),
        stat(t('overview.spendMonth'), fmtMoney(m.cost), t('overview.requestsN', { n: fmtNumber(m.requests) })),
        stat(t('overview.errorRate'), fmtPercent(m.errorRate), t('overview.errorsN', { n: fmtNumber(m.errors) })),
        stat(t('overview.p95'), fmtMs(m.latencyP95Ms)),
        stat(t('overview.tokens'), fmtNumber((m.inputTokens || 0) + (m.outputTokens || 0)))),
      h('section', { class: 'card' }, h('h2', null, t('overview.byDay')),
        columnChart((day.groups || []).map((g) => ({ label: fmtDate(g.key), value: g.cost?.amount ?? 0, text: fmtMoney(g.cost) })), { title: t('overview.spendPerDay') })),
      h('section', { class: 'card' }, h('h2', null, t('overview.thisMonth')),
        h('div', { class: 'charts' }, bars(provider, t('overview.byProvider')), bars(model, t('overview.byModel')), bars(app, t('overview.byApp')), bars(key, t('overview.byKey')))),
    ];
  });
}
