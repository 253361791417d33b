// Virtual keys: create (the secret shown once), edit, rotate, revoke, and each key's budget gauge.
import { h, replace } from '../dom.js';
import { del, get, patch, post } from '../api.js';
import { fmtDate, t } from '../i18n.js';
import { isAdmin, readPath, scope } from '../session.js';
import { alertBox, badge, button, confirmDialog, copyField, dialog, field, gauge, input, load, pageHeader, select, table, toast } from '../ui.js';

// Creating, changing and revoking keys is the instance administrator's (/api/keys); members read their workspace's.
const manageKeys = () => isAdmin();

function periodStart(period, now = new Date()) {
  if (period === 'day') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();
  if (period === 'month') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
  return undefined;
}

// What a key spent in its budget's period and currency, from the usage ledger.
async function spent(key) {
  const b = key.budget;
  const where = readPath('usage');
  const usage = await get(where.path, { ...where.query, key: key.id, from: periodStart(b.period), pageSize: 1 });
  const costs = usage.totals.costs || [usage.totals.cost];
  const same = costs.find((c) => c && c.currency === b.currency);
  return same ? same.amount : 0;
}

function keyForm(key = {}) {
  const name = input({ name: 'name', required: true, maxlength: 200, value: key.name || '' });
  const models = input({ name: 'models', value: (key.models || []).join(', '), placeholder: t('keys.modelsAll') });
  const amount = input({ type: 'number', name: 'budget', min: '0', step: 'any', value: key.budget ? key.budget.amount : '' });
  const currency = select(['CNY', 'USD'].map((c) => ({ value: c, label: c, selected: key.budget && key.budget.currency === c })), { name: 'currency' });
  const period = select(['day', 'month', 'total'].map((p) => ({ value: p, label: t(`keys.period.${p}`), selected: (key.budget ? key.budget.period : 'month') === p })), { name: 'period' });
  const rpm = input({ type: 'number', name: 'rpm', min: '1', value: key.rpm ?? '' });
  const tpm = input({ type: 'number', name: 'tpm', min: '1', value: key.tpm ?? '' });
  const expires = input({ type: 'date', name: 'expiresAt', value: key.expiresAt ? key.expiresAt.slice(0, 10) : '' });
  const body = h('div', { class: 'form-grid' },
    field(t('keys.name'), name), field(t('keys.models'), models, t('keys.modelsHint')),
    field(t('keys.budget'), amount), field(t('keys.currency'), currency), field(t('keys.periodLabel'), period),
    field(t('keys.rpm'), rpm), field(t('keys.tpm'), tpm), field(t('keys.expires'), expires));
  const value = () => {
    const list = models.value.split(/[,\s]+/).filter(Boolean);
    return {
      name: name.value.trim(),
      models: list.length ? list : null,
      budget: amount.value ? { amount: Number(amount.value), currency: currency.value, period: period.value } : null,
      rpm: rpm.value ? Number(rpm.value) : null,
      tpm: tpm.value ? Number(tpm.value) : null,
      expiresAt: expires.value ? new Date(`${expires.value}T23:59:59Z`).toISOString() : null,
    };
  };
  return { body, value };
}

function showSecret(title, created) {
  return dialog(title, h('div', { class: 'stack' },
    h('p', { class: 'alert alert-warn' }, t('keys.secretOnce')),
    copyField(t('keys.secret'), created.key)), { cancelLabel: t('common.done') });
}

async function create(refresh) {
  const form = keyForm();
  let created = null;
  await dialog(t('keys.create'), form.body, {
    submitLabel: t('keys.createSubmit'),
    onSubmit: async () => {
      const body = Object.fromEntries(Object.entries({ ...form.value(), ...scope() }).filter(([, x]) => x !== null));
      created = await post('/api/keys', body);
    },
  });
  if (created) {
    await showSecret(t('keys.createdTitle', { name: created.name }), created);
    refresh();
  }
}

async function edit(key, refresh) {
  const form = keyForm(key);
  const ok = await dialog(t('keys.edit', { name: key.name }), form.body, {
    onSubmit: () => patch(`/api/keys/${encodeURIComponent(key.id)}`, form.value(), scope()),
  });
  if (ok) { toast(t('keys.saved')); refresh(); }
}

async function rotate(key, refresh) {
  if (!await confirmDialog(t('keys.rotate'), t('keys.rotateConfirm', { name: key.name }), t('keys.rotate'))) return;
  try {
    const rotated = await post(`/api/keys/${encodeURIComponent(key.id)}/rotate`, undefined, scope());
    await showSecret(t('keys.rotatedTitle', { name: key.name }), rotated);
    refresh();
  } catch (e) { toast(alertBox(e).textContent, 'error'); }
}

async function revoke(key, refresh) {
  if (!await confirmDialog(t('keys.revoke'), t('keys.revokeConfirm', { name: key.name }), t('keys.revoke'))) return;
  try {
    await del(`/api/keys/${encodeURIComponent(key.id)}`, scope());
    toast(t('keys.revoked'));
    refresh();
  } catch (e) { toast(alertBox(e).textContent, 'error'); }
}

export async function render(main) {
  const list = h('div');
  const refresh = () => load(list, async () => {
    const keys = isAdmin() ? (await get('/api/keys', scope())).keys : (await get(readPath('limits').path)).keys;
    const spend = new Map(await Promise.all(keys.filter((k) => k.budget && !k.revokedAt)
      .map(async (k) => [k.id, await spent(k).catch(() => null)])));
    const manage = manageKeys();
    return table([
      { label: t('keys.name'), cell: (k) => h('strong', null, k.name) },
      { label: t('keys.prefix'), cell: (k) => h('code', null, `${k.prefix}…`) },
      { label: t('keys.models'), cell: (k) => (k.models && k.models.length ? k.models.join(', ') : t('keys.modelsAll')) },
      { label: t('keys.budget'), cell: (k) => (k.budget && spend.get(k.id) !== null && spend.get(k.id) !== undefined ? gauge(spend.get(k.id), k.budget) : k.budget ? gauge(0, k.budget) : gauge(0, null)) },
      { label: t('keys.limits'), cell: (k) => [k.rpm ? t('keys.rpmValue', { n: k.rpm }) : null, k.tpm ? t('keys.tpmValue', { n: k.tpm }) : null].filter(Boolean).join(' · ') || '—' },
      { label: t('keys.expires'), cell: (k) => fmtDate(k.expiresAt) },
      { label: t('keys.status'), cell: (k) => (k.revokedAt ? badge(t('keys.statusRevoked'), 'bad') : badge(t('keys.statusActive'), 'ok')) },
      { label: t('common.actions'), cell: (k) => (manage && !k.revokedAt ? h('div', { class: 'row-actions' },
        button(t('common.edit'), () => edit(k, refresh)),
        button(t('keys.rotate'), () => rotate(k, refresh)),
        button(t('keys.revoke'), () => revoke(k, refresh), { kind: 'danger' })) : '') },
    ], keys, { empty: t('keys.empty'), caption: t('nav.keys') });
  });
  replace(main,
    pageHeader(t('nav.keys'), manageKeys() ? button(t('keys.create'), () => create(refresh), { kind: 'primary' }) : null),
    h('p', { class: 'lead' }, t('keys.lead')),
    list);
  await refresh();
}
