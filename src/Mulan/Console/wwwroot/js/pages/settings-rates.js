// Settings → exchange rates: every version of every rate budgets and reports convert with, and a form to add one
// (a new version applies from its time on; a rate without one applies always, until a later one).
import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { fmtDateTime, fmtNumber, t } from '../i18n.js';
import { badge, button, field, input, load, pageHeader, select, table, toast } from '../ui.js';

const CURRENCIES = ['CNY', 'USD'];

export async function render(main) {
  const list = h('div');
  const from = select(CURRENCIES.map((c) => ({ value: c, label: c, selected: c === 'USD' })), { name: 'from' });
  const to = select(CURRENCIES.map((c) => ({ value: c, label: c, selected: c === 'CNY' })), { name: 'to' });
  const rate = input({ type: 'number', name: 'rate', min: '0', step: 'any', required: true });
  // Proposed: from now on (a pair has at most one version without a time, usually the configuration file's).
  const now = new Date();
  now.setSeconds(0, 0);
  const when = input({ type: 'datetime-local', name: 'effectiveFrom', value: new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16) });
  const form = h('form', { class: 'inline-form', 'aria-label': t('rates.add') },
    field(t('rates.from'), from), field(t('rates.to'), to), field(t('rates.rate'), rate),
    field(t('rates.effectiveFrom'), when, t('rates.effectiveFromHint')), button(t('rates.add'), null, { kind: 'primary', type: 'submit' }));
  const refresh = () => load(list, async () => {
    const { rates, now } = await get('/api/exchange-rates');
    const inForce = new Set();
    // The rate in force per pair: the latest version whose time has come (or that has none).
    for (const pair of new Set(rates.map((r) => `${r.from}/${r.to}`))) {
      const versions = rates.filter((r) => `${r.from}/${r.to}` === pair && (!r.effectiveFrom || new Date(r.effectiveFrom) <= new Date(now)));
      const current = versions.sort((a, b) => new Date(a.effectiveFrom || 0) - new Date(b.effectiveFrom || 0)).at(-1);
      if (current) inForce.add(current);
    }
    return table([
      { label: t('rates.pair'), cell: (r) => h('strong', { class: 'mono' }, `${r.from} → ${r.to}`) },
      { label: t('rates.rate'), cell: (r) => fmtNumber(r.rate, { maximumFractionDigits: 8 }), class: 'num' },
      { label: t('rates.effectiveFrom'), cell: (r) => (r.effectiveFrom ? fmtDateTime(r.effectiveFrom) : t('rates.always')) },
      { label: t('rates.source'), cell: (r) => t(`prices.source.${r.source}`) },
      { label: t('rates.status'), cell: (r) => (inForce.has(r) ? badge(t('rates.inForce'), 'ok') : new Date(r.effectiveFrom) > new Date(now) ? badge(t('rates.upcoming'), 'warn') : badge(t('rates.superseded'))) },
    ], rates, { empty: t('rates.empty'), caption: t('nav.rates') });
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post('/api/exchange-rates', { from: from.value, to: to.value, rate: Number(rate.value), effectiveFrom: when.value ? new Date(when.value).toISOString() : undefined });
      toast(t('rates.added'));
      rate.value = '';
      refresh();
    } catch (err) { toast(err.message, 'error'); }
  });
  replace(main, pageHeader(t('nav.rates')), h('p', { class: 'lead' }, t('rates.lead')), h('section', { class: 'card' }, form), list);
  await refresh();
}
