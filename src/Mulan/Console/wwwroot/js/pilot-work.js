// The working side of a pilot: the scope as a board by priority, change requests after the scope is frozen (request,
// approve, reject) and effort entry. The report below it is what the customer sees.
import { h } from './dom.js';
import { post } from './api.js';
import { fmtDate, fmtDateTime, fmtMoney, fmtNumber, t, tOr } from './i18n.js';
import { can } from './session.js';
import { button, dialog, field, input, select, statusBadge, table, toast } from './ui.js';

const PRIORITIES = ['must', 'should', 'could', 'wont'];
const KINDS = ['add', 'change', 'remove'];

const priorityOptions = (chosen) => PRIORITIES.map((p) => ({ value: p, label: t(`pilots.priority.${p}`), selected: p === chosen }));
const currencyOptions = (chosen) => ['CNY', 'USD'].map((c) => ({ value: c, label: c, selected: c === chosen }));
const today = () => new Date().toISOString().slice(0, 10);

function scopeBoard(scope) {
  return h('section', { class: 'card', 'aria-labelledby': 'scope-board' }, h('h2', { id: 'scope-board' }, t('pilots.board')),
    h('div', { class: 'board board-4' }, PRIORITIES.map((p) => h('section', { class: 'board-column', 'aria-labelledby': `prio-${p}` },
      h('h3', { id: `prio-${p}` }, t(`pilots.priority.${p}`)),
      scope.filter((i) => i.priority === p).map((i) => h('article', { class: 'card scope-card' },
        h('strong', null, i.title),
        i.description ? h('p', { class: 'muted' }, i.description) : null,
        (i.criteria || []).length ? h('p', { class: 'muted' }, i.criteria.map((c) => `${c.metric} ≥ ${c.threshold}`).join('; ')) : null))))));
}

async function requestChange(pilot, scope, currency, reload) {
  const kind = select(KINDS.map((k) => ({ value: k, label: t(`pilots.changeKind.${k}`) })), { name: 'kind' });
  const item = select(scope.map((i) => ({ value: i.id, label: i.title })), { name: 'item' });
  const title = input({ name: 'title' });
  const priority = select(priorityOptions('should'), { name: 'priority' });
  const effortDays = input({ type: 'number', name: 'effortDays', min: '0', step: 'any', value: '0', required: true });
  const cost = input({ type: 'number', name: 'cost', min: '0', step: 'any', value: '0', required: true });
  const costCurrency = select(currencyOptions(currency), { name: 'costCurrency' });
  const scheduleDays = input({ type: 'number', name: 'scheduleDays', step: '1', value: '0', required: true });
  const reason = h('textarea', { name: 'reason', rows: 3, required: true });
  const itemField = field(t('pilots.item'), item);
  const titleField = field(t('pilots.itemTitle'), title);
  const priorityField = field(t('pilots.priority'), priority);
  const sync = () => {
    const k = kind.value;
    itemField.hidden = k === 'add';
    titleField.hidden = k === 'remove';
    priorityField.hidden = k === 'remove';
    const chosen = scope.find((i) => i.id === item.value);
    if (k === 'change' && chosen && !title.value) { title.value = chosen.title; priority.value = chosen.priority; }
  };
  kind.addEventListener('change', sync);
  item.addEventListener('change', () => { title.value = ''; sync(); });
  sync();
  const ok = await dialog(t('pilots.requestChange'), h('div', { class: 'form-grid wide' },
    field(t('pilots.changeKindLabel'), kind), itemField, titleField, priorityField,
    field(t('pilots.impactDays'), effortDays), field(t('pilots.impactCost'), cost), field(t('keys.currency'), costCurrency),
    field(t('pilots.impactSchedule'), scheduleDays, t('pilots.impactScheduleHint')), field(t('pilots.reason'), reason)), {
    submitLabel: t('pilots.submitChange'),
    onSubmit: () => {
      const k = kind.value;
      const body = {
        kind: k, reason: reason.value.trim(),
        impact: { effortDays: Number(effortDays.value), cost: { amount: Number(cost.value), currency: costCurrency.value }, scheduleDays: Number(scheduleDays.value) },
      };
      if (k !== 'add') body.item = item.value;
      if (k !== 'remove') {
        const base = k === 'change' ? scope.find((i) => i.id === item.value) || {} : {};
        body.scope = { title: title.value.trim(), priority: priority.value };
        for (const f of ['description', 'owner', 'app']) if (base[f]) body.scope[f] = base[f];
        if (base.criteria && base.criteria.length) body.scope.criteria = base.criteria;
      }
      return post(`/api/pilots/${encodeURIComponent(pilot.id)}/changes`, body);
    },
  });
  if (ok) { toast(t('pilots.changeRequested')); reload(); }
}

async function decide(pilot, change, decision, reload) {
  const by = input({ name: 'by', required: true });
  const note = input({ name: 'note' });
  const ok = await dialog(t(`pilots.${decision}Title`), h('div', { class: 'form-grid' }, field(t('pilots.decidedBy'), by), field(t('pilots.note'), note)), {
    submitLabel: t(`pilots.${decision}`),
    onSubmit: () => post(`/api/pilots/${encodeURIComponent(pilot.id)}/changes/${encodeURIComponent(change.id)}/${decision}`,
      { by: by.value.trim(), note: note.value.trim() || undefined }),
  });
  if (ok) { toast(t(decision === 'approve' ? 'pilots.changeApproved' : 'pilots.changeRejected')); reload(); }
}

function changesCard(pilot, scope, changes, currency, reload) {
  const frozen = Boolean(pilot.frozenAt);
  const titleOf = (c) => (c.scope && c.scope.title) || (scope.find((i) => i.id === c.item) || {}).title || c.item || '—';
  return h('section', { class: 'card', 'aria-labelledby': 'changes-title' },
    h('header', { class: 'page-header' }, h('h2', { id: 'changes-title' }, t('pilots.changes')),
      frozen && can('member') ? button(t('pilots.requestChange'), () => requestChange(pilot, scope, currency, reload), { kind: 'primary' }) : null),
    frozen ? h('p', { class: 'muted' }, t('pilots.frozenAt', { at: fmtDateTime(pilot.frozenAt) })) : h('p', { class: 'muted' }, t('pilots.notFrozen')),
    table([
      { label: t('pilots.requested'), cell: (c) => fmtDateTime(c.createdAt) },
      { label: t('pilots.changeKindLabel'), cell: (c) => tOr(`pilots.changeKind.${c.kind}`, c.kind) },
      { label: t('pilots.item'), cell: titleOf },
      { label: t('pilots.impact'), cell: (c) => t('pilots.impactText', { days: fmtNumber(c.impact.effortDays), cost: fmtMoney(c.impact.cost), schedule: fmtNumber(c.impact.scheduleDays) }) },
      { label: t('pilots.reason'), cell: (c) => c.reason },
      { label: t('pilots.changeStatus'), cell: (c) => h('span', null, statusBadge('pilots.changeState', c.status), c.decidedBy ? h('span', { class: 'muted' }, ` ${c.decidedBy}`) : null) },
      { label: t('common.actions'), cell: (c) => (c.status === 'pending' && can('admin') ? h('div', { class: 'row-actions' },
        button(t('pilots.approve'), () => decide(pilot, c, 'approve', reload)), button(t('pilots.reject'), () => decide(pilot, c, 'reject', reload), { kind: 'danger' })) : '') },
    ], changes, { empty: t('pilots.noChanges'), caption: t('pilots.changes') }));
}

function effortCard(pilot, scope, currency, reload) {
  const role = input({ name: 'role', required: true, autocomplete: 'off' });
  const person = input({ name: 'person', autocomplete: 'off' });
  const days = input({ type: 'number', name: 'days', min: '0', step: 'any', required: true });
  const rate = input({ type: 'number', name: 'dayRate', min: '0', step: 'any', required: true });
  const rateCurrency = select(currencyOptions(currency), { name: 'dayRateCurrency' });
  const date = input({ type: 'date', name: 'date', required: true, value: today() });
  const item = select([{ value: '', label: t('pilots.wholePilot') }, ...scope.map((i) => ({ value: i.id, label: i.title }))], { name: 'scopeItem' });
  const form = h('form', { class: 'form-grid', 'aria-labelledby': 'effort-title' },
    field(t('pilots.role'), role), field(t('pilots.person'), person), field(t('pilots.days'), days), field(t('pilots.dayRate'), rate),
    field(t('keys.currency'), rateCurrency), field(t('pilots.date'), date), field(t('pilots.item'), item),
    h('div', { class: 'field' }, button(t('pilots.logEffort'), null, { kind: 'primary', type: 'submit' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`/api/pilots/${encodeURIComponent(pilot.id)}/effort`, {
        role: role.value.trim(), person: person.value.trim() || undefined, days: Number(days.value),
        dayRate: { amount: Number(rate.value), currency: rateCurrency.value }, date: date.value, scopeItem: item.value || undefined,
      });
      toast(t('pilots.effortLogged'));
      reload();
    } catch (err) { toast(err.message, 'error'); }
  });
  return h('section', { class: 'card' }, h('h2', { id: 'effort-title' }, t('pilots.logEffortTitle')),
    h('p', { class: 'muted' }, t('pilots.logEffortHint', { start: fmtDate(pilot.start), end: fmtDate(pilot.end) })), form);
}

/** The sections above the report: board, change requests and (for members) effort entry. */
export function workSections({ pilot, scope }, changes, reload) {
  const currency = (pilot.contractValue && pilot.contractValue.currency) || 'CNY';
  return [scopeBoard(scope), changesCard(pilot, scope, changes, currency, reload), can('member') ? effortCard(pilot, scope, currency, reload) : null];
}
