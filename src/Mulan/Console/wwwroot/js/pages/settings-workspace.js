// Settings → workspace: data residency and limits (budget, requests and tokens per minute), and the PII guard's
// rules: what is masked or blocked before a request reaches an external provider.
import { h, replace } from '../dom.js';
import { get, put } from '../api.js';
import { t } from '../i18n.js';
import { session, useWorkspace } from '../session.js';
import { button, field, input, load, pageHeader, select, toast } from '../ui.js';

const KINDS = ['china_id', 'china_mobile', 'bank_card', 'email'];
const ACTIONS = ['allow', 'mask', 'block'];

const actionSelect = (chosen, label) => select(ACTIONS.map((a) => ({ value: a, label: t(`pii.action.${a}`), selected: a === (chosen || 'allow') })),
  { 'aria-label': label });
const numberOrNull = (el) => (el.value === '' ? null : Number(el.value));

function limitsCard(ws, reload) {
  const b = ws.budget || {};
  const localOnly = h('input', { type: 'checkbox', name: 'localOnly', checked: ws.localOnly });
  const amount = input({ type: 'number', name: 'amount', min: '0', step: 'any', value: b.amount ?? '' });
  const currency = select(['CNY', 'USD'].map((c) => ({ value: c, label: c, selected: (b.currency || 'CNY') === c })), { name: 'currency' });
  const period = select(['day', 'month', 'total'].map((p) => ({ value: p, label: t(`keys.period.${p}`), selected: (b.period || 'month') === p })), { name: 'period' });
  const rpm = input({ type: 'number', name: 'rpm', min: '1', step: '1', value: ws.rpm ?? '' });
  const tpm = input({ type: 'number', name: 'tpm', min: '1', step: '1', value: ws.tpm ?? '' });
  const form = h('form', { class: 'stack', 'aria-labelledby': 'limits-title' },
    h('h2', { id: 'limits-title' }, t('settings.limitsTitle')),
    h('label', { class: 'check' }, localOnly, ' ', t('settings.localOnly')),
    h('p', { class: 'hint' }, t('settings.localOnlyHint')),
    h('div', { class: 'form-grid' }, field(t('keys.budget'), amount, t('settings.budgetHint')), field(t('keys.currency'), currency),
      field(t('keys.periodLabel'), period), field(t('keys.rpm'), rpm), field(t('keys.tpm'), tpm)),
    h('div', null, button(t('common.save'), null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await put(`/api/workspaces/${encodeURIComponent(ws.id)}/limits`, {
        localOnly: localOnly.checked,
        budget: amount.value === '' ? null : { amount: Number(amount.value), currency: currency.value, period: period.value },
        rpm: numberOrNull(rpm), tpm: numberOrNull(tpm),
      });
      toast(t('settings.saved'));
      reload();
    } catch (err) { toast(err.message, 'error'); }
  });
  return h('section', { class: 'card' }, form);
}

function piiCard(ws, reload) {
  const rules = new Map(((ws.pii && ws.pii.rules) || []).map((r) => [r.kind, r.action]));
  const builtIn = KINDS.map((k) => ({ kind: k, action: actionSelect(rules.get(k), t(`pii.kind.${k}`)) }));
  const customBody = h('tbody');
  const addPattern = (p = { name: '', pattern: '' }) => {
    const name = input({ value: p.name, 'aria-label': t('pii.patternName'), pattern: '[a-z0-9_]+', required: true });
    const pattern = input({ value: p.pattern, class: 'mono', 'aria-label': t('pii.pattern'), required: true });
    const action = actionSelect(rules.get(p.name) || 'mask', t('pii.actionFor'));
    const row = h('tr', { class: 'pii-pattern' }, h('td', null, name), h('td', null, pattern), h('td', null, action),
      h('td', null, button(t('common.remove'), () => row.remove(), { kind: 'link' })));
    row.read = () => ({ name: name.value.trim(), pattern: pattern.value, action: action.value });
    customBody.append(row);
  };
  ((ws.pii && ws.pii.patterns) || []).forEach(addPattern);
  const form = h('form', { class: 'stack', 'aria-labelledby': 'pii-title' },
    h('h2', { id: 'pii-title' }, t('settings.piiTitle')),
    h('p', { class: 'hint' }, t('settings.piiHint')),
    h('div', { class: 'form-grid' }, builtIn.map((b) => field(t(`pii.kind.${b.kind}`), b.action))),
    h('h3', null, t('pii.custom')),
    h('div', { class: 'table-wrap' }, h('table', null,
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('pii.patternName')), h('th', { scope: 'col' }, t('pii.pattern')),
        h('th', { scope: 'col' }, t('pii.actionFor')), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('common.actions'))))),
      customBody)),
    h('div', { class: 'row-actions' }, button(t('pii.addPattern'), () => addPattern()), button(t('common.save'), null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const custom = [...customBody.querySelectorAll('tr.pii-pattern')].map((r) => r.read());
    const body = {
      rules: [...builtIn.map((b) => ({ kind: b.kind, action: b.action.value })), ...custom.map((c) => ({ kind: c.name, action: c.action }))]
        .filter((r) => r.action !== 'allow'),
      patterns: custom.map((c) => ({ name: c.name, pattern: c.pattern })),
    };
    try {
      await put(`/api/workspaces/${encodeURIComponent(ws.id)}/pii`, body);
      toast(t('settings.saved'));
      reload();
    } catch (err) { toast(err.message, 'error'); }
  });
  return h('section', { class: 'card' }, form);
}

export async function render(main, params, { render: redraw }) {
  const body = h('div', { class: 'stack' });
  replace(main, pageHeader(t('nav.workspaceSettings')), h('p', { class: 'lead' }, t('settings.workspaceLead')), body);
  const reload = () => load(body, async () => {
    const { workspaces } = await get('/api/workspaces');
    const ws = workspaces.find((w) => session.workspace && w.id === session.workspace.id) || workspaces[0];
    if (!ws) return h('p', { class: 'empty' }, t('settings.noWorkspace'));
    const picker = select(workspaces.map((w) => ({ value: w.id, label: w.name, selected: w.id === ws.id })), { id: 'settings-workspace' });
    picker.addEventListener('change', () => { useWorkspace(picker.value); redraw(); });
    return [field(t('shell.workspace'), picker), limitsCard(ws, reload), piiCard(ws, reload)];
  });
  await reload();
}
