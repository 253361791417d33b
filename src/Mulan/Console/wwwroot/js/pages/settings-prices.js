// Settings → prices: each route's deployments with the price in force and the announced changes; a new price for an
// API-created route is announced from a time on (a route from the configuration file is changed in the file).
import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { fmtDateTime, fmtNumber, t } from '../i18n.js';
import { badge, button, dialog, field, input, load, pageHeader, select, table, toast } from '../ui.js';

// What a route of each kind is priced by (per one million tokens for chat).
const UNIT = { transcription: 'perSecond', speech: 'perMillionCharacters', ocr: 'perPage' };

function priceText(kind, p) {
  const unit = UNIT[kind];
  const n = (x) => fmtNumber(x, { maximumFractionDigits: 6 });
  if (unit) return t(`prices.unit.${unit}`, { currency: p.currency, amount: n(p[unit]) });
  return t('prices.perMillion', { currency: p.currency, input: n(p.input), output: n(p.output) });
}

// A datetime-local value (the browser's time zone) for now plus a few minutes.
function soon() {
  const d = new Date(Date.now() + 5 * 60_000);
  d.setSeconds(0, 0);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

async function announce(model, refresh) {
  const deployment = select(model.deployments.map((d, i) => ({ value: String(i), label: `${d.provider}/${d.model}` })), { name: 'deployment' });
  const unit = UNIT[model.kind];
  const current = () => model.deployments[Number(deployment.value)].priceNow;
  const fields = unit
    ? { [unit]: input({ type: 'number', name: unit, min: '0', step: 'any', required: true }) }
    : { input: input({ type: 'number', name: 'input', min: '0', step: 'any', required: true }),
      output: input({ type: 'number', name: 'output', min: '0', step: 'any', required: true }),
      cachedInput: input({ type: 'number', name: 'cachedInput', min: '0', step: 'any' }) };
  const currency = h('output', { class: 'mono' });
  const fill = () => {
    const p = current();
    currency.textContent = p.currency;
    for (const [k, el] of Object.entries(fields)) el.value = p[k] ?? '';
  };
  deployment.addEventListener('change', fill);
  fill();
  const from = input({ type: 'datetime-local', name: 'effectiveFrom', required: true, value: soon() });
  const ok = await dialog(t('prices.announceTitle', { name: model.name }), h('div', { class: 'form-grid' },
    field(t('prices.deployment'), deployment), h('div', { class: 'field' }, h('span', { class: 'label' }, t('keys.currency')), currency),
    Object.entries(fields).map(([k, el]) => field(t(`prices.field.${k}`), el)),
    field(t('prices.effectiveFrom'), from, t('prices.effectiveFromHint'))), {
    submitLabel: t('prices.announce'),
    onSubmit: () => {
      const d = model.deployments[Number(deployment.value)];
      const price = { currency: d.priceNow.currency, effectiveFrom: new Date(from.value).toISOString() };
      for (const [k, el] of Object.entries(fields)) if (el.value !== '') price[k] = Number(el.value);
      return post(`/api/models/${encodeURIComponent(model.name)}/prices`, { provider: d.provider, model: d.model, price });
    },
  });
  if (ok) { toast(t('prices.announced')); refresh(); }
}

export async function render(main) {
  const list = h('div', { class: 'stack' });
  replace(main, pageHeader(t('nav.prices')), h('p', { class: 'lead' }, t('prices.lead')), list);
  const refresh = () => load(list, async () => {
    const { models } = await get('/api/models');
    if (!models.length) return h('p', { class: 'empty' }, t('prices.empty'));
    return models.map((m) => h('section', { class: 'card', 'aria-labelledby': `route-${m.name}` },
      h('header', { class: 'page-header' }, h('h2', null, h('span', { id: `route-${m.name}` }, m.name), ' ', badge(t(`prices.source.${m.source}`))),
        m.source === 'api' ? button(t('prices.announce'), () => announce(m, refresh)) : h('span', { class: 'muted' }, t('prices.fromFile'))),
      table([
        { label: t('prices.deployment'), cell: (d) => h('span', { class: 'mono' }, `${d.provider}/${d.model}`) },
        { label: t('prices.now'), cell: (d) => priceText(m.kind, d.priceNow) },
        { label: t('prices.changes'), cell: (d) => {
          const upcoming = (d.priceChanges || []).filter((p) => new Date(p.effectiveFrom) > new Date());
          return upcoming.length ? h('ul', { class: 'plain' }, upcoming.map((p) => h('li', null, t('prices.from', { at: fmtDateTime(p.effectiveFrom) }), ' ', priceText(m.kind, p))))
            : h('span', { class: 'muted' }, t('prices.noChanges'));
        } },
      ], m.deployments, { caption: m.name })));
  });
  await refresh();
}
