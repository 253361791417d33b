// One run: its step trace (model calls, tool calls, approvals), the pending approval and the output.
import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { fmtDateTime, fmtMoney, fmtMs, t, tOr } from '../i18n.js';
import { can } from '../session.js';
import { pendingCard } from '../approval.js';
import { alertBox, button, pageHeader, statusBadge, toast } from '../ui.js';

function text(value) {
  if (value === null || value === undefined || value === '') return null;
  return h('pre', { class: 'json' }, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

export async function render(main, { id }) {
  let timer = null;
  const draw = async () => {
    clearTimeout(timer);
    if (!main.isConnected && timer !== null) return;
    let run;
    try {
      run = await get(`/api/runs/${encodeURIComponent(id)}`);
    } catch (e) {
      replace(main, alertBox(e));
      return;
    }
    const cancel = async () => {
      try { await post(`/api/runs/${encodeURIComponent(id)}/cancel`, {}); draw(); } catch (e) { toast(alertBox(e).textContent, 'error'); }
    };
    const live = run.status === 'running' || run.status === 'awaiting_approval';
    replace(main,
      h('p', { class: 'breadcrumb' }, h('a', { href: '/runs' }, t('nav.runs'))),
      pageHeader(t('runs.title', { id: run.id }), live && can('admin') ? button(t('runs.cancel'), cancel, { kind: 'danger' }) : null),
      h('dl', { class: 'facts' },
        h('dt', null, t('runs.app')), h('dd', null, run.app, run.appVersion ? ` v${run.appVersion}` : ''),
        h('dt', null, t('runs.statusLabel')), h('dd', null, statusBadge('runs.status', run.status)),
        h('dt', null, t('runs.cost')), h('dd', null, fmtMoney(run.cost)),
        h('dt', null, t('runs.created')), h('dd', null, fmtDateTime(run.createdAt))),
      h('section', { class: 'card' }, h('h2', null, t('runs.input')), h('p', null, run.input)),
      run.pendingApproval ? pendingCard(run, draw) : null,
      run.error ? h('p', { class: 'alert alert-error' }, run.error) : null,
      run.output ? h('section', { class: 'card' }, h('h2', null, t('runs.output')), h('p', { class: 'run-output' }, run.output)) : null,
      h('section', { class: 'card' }, h('h2', null, t('runs.trace')),
        h('ol', { class: 'trace' }, (run.steps || []).map((s) => h('li', { class: `step step-${s.kind}` },
          h('div', { class: 'step-head' }, h('span', { class: 'badge badge-neutral' }, tOr(`runs.kind.${s.kind}`, s.kind)), ' ', h('strong', { class: 'mono' }, s.name || ''),
            ' ', statusBadge('runs.stepStatus', s.status), h('span', { class: 'muted' }, ` ${fmtMs(s.durationMs)}`), s.cost ? h('span', { class: 'muted' }, ` · ${fmtMoney(s.cost)}`) : null),
          s.input !== undefined && s.input !== null ? h('details', null, h('summary', null, t('runs.stepInput')), text(s.input)) : null,
          s.output !== undefined && s.output !== null ? h('details', null, h('summary', null, t('runs.stepOutput')), text(s.output)) : null,
          s.error ? h('p', { class: 'error-text' }, s.error) : null)))));
    if (live) timer = setTimeout(draw, 1500);
  };
  await draw();
}
