// The pilot board: planned, active and closed pilots as columns.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDate, fmtMoney, t } from '../i18n.js';
import { load, pageHeader } from '../ui.js';

const COLUMNS = ['planned', 'active', 'closed'];

export async function render(main) {
  const board = h('div');
  replace(main, pageHeader(t('nav.pilots')), h('p', { class: 'lead' }, t('pilots.lead')), board);
  await load(board, async () => {
    const { pilots } = await get('/api/pilots');
    if (!pilots.length) return h('p', { class: 'empty' }, t('pilots.empty'));
    return h('div', { class: 'board' }, COLUMNS.map((col) => h('section', { class: 'board-column', 'aria-labelledby': `col-${col}` },
      h('h2', { id: `col-${col}` }, t(`pilots.status.${col}`)),
      pilots.filter((p) => p.status === col).map((p) => h('article', { class: 'card pilot-card' },
        h('h3', null, h('a', { href: `/pilots/${encodeURIComponent(p.id)}` }, p.name)),
        h('p', null, p.customer),
        h('p', { class: 'muted' }, `${fmtDate(p.start)} – ${fmtDate(p.end)}`),
        h('p', null, t('pilots.contract', { value: fmtMoney(p.contractValue) })))))));
  });
}
