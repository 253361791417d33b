// Building blocks of the pages: headers, tables, forms, dialogs, messages, copy buttons, gauges.
import { h, s, replace, uid } from './dom.js';
import { LANGUAGES, language, setLanguage, t, tOr, fmtMoney } from './i18n.js';

export function pageHeader(title, ...actions) {
  return h('header', { class: 'page-header' }, h('h1', null, title), h('div', { class: 'actions' }, ...actions));
}

export function button(label, onClick, { kind = 'secondary', type = 'button', disabled = false, title } = {}) {
  return h('button', { type, class: `btn btn-${kind}`, onClick, disabled, title }, label);
}

/** columns: [{label, cell: row => node|text, class?}] */
export function table(columns, rows, { empty, caption } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'empty' }, empty || t('common.empty'));
  return h('div', { class: 'table-wrap' }, h('table', null,
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
    h('tbody', null, rows.map((r) => h('tr', null, columns.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

/** A labelled control; returns the wrapper, the control is `control`. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', { id: hintId, class: 'hint' }, hint) : null);
}

export function input(attrs) {
  return h('input', { type: 'text', ...attrs });
}

export function select(options, attrs) {
  return h('select', attrs, options.map((o) => h('option', { value: o.value, selected: o.selected }, o.label)));
}

/** A message for an API error: 403 says plainly that the role may not do it. */
export function errorMessage(error) {
  if (error && error.status === 403) return t('error.forbidden');
  if (error && error.status === 0) return t('error.network');
  return t('error.withDetail', { detail: (error && error.message) || String(error) });
}

export function alertBox(error) {
  return h('div', { class: 'alert alert-error', role: 'alert' }, errorMessage(error));
}

/** Shows a short message at the bottom of the page. */
export function toast(text, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** A modal dialog; resolves with what the action returns, or null when cancelled. */
export function dialog(title, body, { submitLabel, onSubmit, cancelLabel } = {}) {
  return new Promise((resolve) => {
    const error = h('div', { class: 'dialog-error' });
    const titleId = uid('dlg');
    const form = h('form', { method: 'dialog', class: 'dialog-body' },
      h('h2', { id: titleId }, title), body, error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', onClick: () => close(null) }, cancelLabel || t('common.cancel')),
        onSubmit ? h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel || t('common.save')) : null));
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    const close = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      replace(error);
      try {
        const result = await onSubmit();
        if (result !== false) close(result ?? true);
      } catch (err) {
        replace(error, alertBox(err));
      }
    });
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(null); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export async function confirmDialog(title, text, label) {
  return dialog(title, h('p', null, text), { submitLabel: label || t('common.confirm'), onSubmit: () => true });
}

/** A read-only value with a copy button (a secret shown once, an invitation link). */
export function copyField(label, value) {
  const box = h('input', { type: 'text', readOnly: true, value, class: 'mono', 'aria-label': label });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      box.select();
      document.execCommand('copy');
    }
    replace(status, t('common.copied'));
  };
  return h('div', { class: 'copy-field' }, box, h('button', { type: 'button', class: 'btn btn-secondary', onClick: copy }, t('common.copy')), status);
}

/** A budget gauge: spend against the budget as a bar and in words. */
export function gauge(spent, budget) {
  if (!budget) return h('span', { class: 'muted' }, t('keys.noBudget'));
  const ratio = budget.amount > 0 ? Math.min(spent / budget.amount, 1) : 0;
  const level = ratio >= 1 ? 'over' : ratio >= 0.8 ? 'high' : 'ok';
  const label = t('keys.gauge', { spent: fmtMoney({ amount: spent, currency: budget.currency }), budget: fmtMoney(budget), period: t(`keys.period.${budget.period}`) });
  return h('div', { class: 'gauge', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': budget.amount, 'aria-valuenow': spent, 'aria-label': label },
    s('svg', { viewBox: '0 0 100 8', width: 120, height: 10, 'aria-hidden': 'true' },
      s('rect', { x: 0, y: 0, width: 100, height: 8, rx: 4, class: 'gauge-track' }),
      s('rect', { x: 0, y: 0, width: Math.max(ratio * 100, ratio > 0 ? 2 : 0), height: 8, rx: 4, class: `gauge-fill gauge-${level}` })),
    h('span', { class: 'gauge-text' }, label));
}

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind || 'neutral'}` }, text);
}

export function statusBadge(prefix, status) {
  const kind = { ok: 'ok', approved: 'ok', rejected: 'bad', expired: 'bad', error: 'bad', ready: 'ok', succeeded: 'ok', healthy: 'ok', active: 'ok', published: 'ok', failed: 'bad', failing: 'bad', cancelled: 'neutral',
    awaiting_approval: 'warn', queued: 'warn', processing: 'warn', running: 'warn', cooling_down: 'warn', disabled: 'neutral' }[status];
  return badge(tOr(`${prefix}.${status}`, status), kind);
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

/** Runs an async loader into a container, showing loading and errors. */
export async function load(container, loader) {
  replace(container, loading());
  try {
    replace(container, await loader());
  } catch (e) {
    replace(container, alertBox(e));
  }
}

/** The language switch; remembers the choice and draws the page again. */
export function languagePicker(redraw) {
  const picker = select(LANGUAGES.map((l) => ({ value: l.code, label: l.label, selected: l.code === language() })),
    { id: 'language', 'aria-label': t('shell.language'), class: 'compact' });
  picker.addEventListener('change', async () => {
    await setLanguage(picker.value);
    redraw();
  });
  return picker;
}
