// A pending tool call and its approve / reject buttons (used by the inbox and by a run's page).
import { h } from './dom.js';
import { post } from './api.js';
import { fmtDateTime, t } from './i18n.js';
import { can } from './session.js';
import { alertBox, badge, button, dialog, field, toast } from './ui.js';

export function pendingCard(run, onDone) {
  const p = run.pendingApproval;
  const approve = async () => {
    try {
      await post(`/api/runs/${encodeURIComponent(run.id)}/approve`, {});
      toast(t('approvals.approved', { tool: p.tool }));
      onDone();
    } catch (e) { toast(alertBox(e).textContent, 'error'); }
  };
  const reject = async () => {
    const reason = h('textarea', { name: 'reason', rows: 3, maxlength: 1000 });
    const ok = await dialog(t('approvals.rejectTitle', { tool: p.tool }), field(t('approvals.reason'), reason), {
      submitLabel: t('approvals.reject'),
      onSubmit: () => post(`/api/runs/${encodeURIComponent(run.id)}/reject`, { reason: reason.value || undefined }),
    });
    if (ok) { toast(t('approvals.rejected', { tool: p.tool })); onDone(); }
  };
  return h('article', { class: 'card approval', 'aria-label': t('approvals.cardLabel', { tool: p.tool }) },
    h('div', { class: 'approval-head' }, h('strong', { class: 'mono' }, p.tool), p.source ? h('span', { class: 'muted' }, ` · ${p.source}`) : null,
      p.sideEffect ? badge(t('approvals.sideEffect'), 'warn') : null),
    h('p', { class: 'muted' }, t('approvals.runOf', { app: run.app }), ' ', h('a', { href: `/runs/${encodeURIComponent(run.id)}` }, run.id)),
    run.input ? h('p', null, h('span', { class: 'muted' }, `${t('runs.input')}: `), run.input) : null,
    h('pre', { class: 'json', 'aria-label': t('approvals.arguments') }, JSON.stringify(p.arguments, null, 2)),
    p.expiresAt ? h('p', { class: 'muted' }, t('approvals.expires', { at: fmtDateTime(p.expiresAt) })) : null,
    can('admin') ? h('div', { class: 'row-actions' }, button(t('approvals.approve'), approve, { kind: 'primary' }), button(t('approvals.reject'), reject, { kind: 'danger' })) : null);
}
