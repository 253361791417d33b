// The approvals inbox: every run waiting for a person to approve or reject a tool call.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { t } from '../i18n.js';
import { pendingCard } from '../approval.js';
import { load, pageHeader } from '../ui.js';

export async function render(main) {
  const list = h('div', { class: 'stack' });
  const refresh = () => load(list, async () => {
    const { runs } = await get('/api/runs', { status: 'awaiting_approval', limit: 100 });
    const full = await Promise.all(runs.map((r) => get(`/api/runs/${encodeURIComponent(r.id)}`)));
    const waiting = full.filter((r) => r.pendingApproval);
    return waiting.length ? waiting.map((r) => pendingCard(r, refresh)) : h('p', { class: 'empty' }, t('approvals.empty'));
  });
  replace(main, pageHeader(t('nav.approvals')), h('p', { class: 'lead' }, t('approvals.lead')), list);
  await refresh();
}
