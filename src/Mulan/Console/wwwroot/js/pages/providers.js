// Providers and models: each deployment's health and breaker, recent errors, and "test this deployment".
import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { fmtDateTime, fmtMs, fmtNumber, fmtPercent, t } from '../i18n.js';
import { alertBox, badge, button, dialog, load, pageHeader, statusBadge, table } from '../ui.js';

async function test(model) {
  const out = h('div', { 'aria-live': 'polite' });
  const run = load(out, async () => {
    const r = await post(`/api/models/${encodeURIComponent(model)}/test`, {});
    return [h('p', null, r.ok ? badge(t('providers.testOk'), 'ok') : badge(t('providers.testFailed'), 'bad'), ' ', t('providers.endpoint', { endpoint: r.endpoint })),
      table([
        { label: t('providers.provider'), cell: (d) => d.provider },
        { label: t('providers.vendorModel'), cell: (d) => d.model },
        { label: t('providers.result'), cell: (d) => (d.ok ? badge(t('providers.testOk'), 'ok') : badge(t('providers.testFailed'), 'bad')) },
        { label: t('providers.latency'), cell: (d) => fmtMs(d.latencyMs), class: 'num' },
        { label: t('providers.error'), cell: (d) => d.error || '—' },
      ], r.deployments)];
  });
  dialog(t('providers.testTitle', { model }), out, { cancelLabel: t('common.close') });
  await run;
}

export async function render(main) {
  const providers = h('div');
  const deployments = h('div');
  replace(main, pageHeader(t('nav.providers')), h('p', { class: 'lead' }, t('providers.lead')),
    h('section', { class: 'card' }, h('h2', null, t('providers.deployments')), deployments),
    h('section', { class: 'card' }, h('h2', null, t('providers.providers')), providers));
  await Promise.all([
    load(deployments, async () => {
      const { deployments: list } = await get('/api/deployments');
      return table([
        { label: t('providers.model'), cell: (d) => h('strong', null, d.model) },
        { label: t('providers.provider'), cell: (d) => d.provider },
        { label: t('providers.vendorModel'), cell: (d) => h('code', null, d.vendorModel) },
        { label: t('providers.health'), cell: (d) => [statusBadge('providers.status', d.status), d.cooldownUntil ? h('div', { class: 'muted' }, t('providers.coolingUntil', { at: fmtDateTime(d.cooldownUntil) })) : null] },
        { label: t('providers.breaker'), cell: (d) => t('providers.failuresN', { n: d.consecutiveFailures }) },
        { label: t('providers.errorRate'), cell: (d) => fmtPercent(d.errorRate), class: 'num' },
        { label: t('providers.latency'), cell: (d) => fmtMs(d.latencyMs), class: 'num' },
        { label: t('providers.calls'), cell: (d) => `${fmtNumber(d.calls)} / ${fmtNumber(d.errors)}`, class: 'num' },
        { label: t('common.actions'), cell: (d) => button(t('providers.test'), () => test(d.model).catch((e) => alertBox(e))) },
      ], list, { empty: t('providers.noDeployments') });
    }),
    load(providers, async () => {
      const r = await get('/api/providers');
      return table([
        { label: t('providers.provider'), cell: (p) => h('strong', null, p.name) },
        { label: t('providers.kind'), cell: (p) => p.kind },
        { label: t('providers.protocol'), cell: (p) => p.protocol || '—' },
        { label: t('providers.baseUrl'), cell: (p) => h('code', null, p.baseUrl || '—') },
        { label: t('providers.apiKey'), cell: (p) => (p.hasApiKey ? badge(t('providers.keySet'), 'ok') : badge(t('providers.keyNone'))) },
      ], r.providers || [], { empty: t('providers.noProviders') });
    }),
  ]);
}
