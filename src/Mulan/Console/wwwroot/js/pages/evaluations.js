// Evaluations: sets, runs with their metrics, and a bake-off table of the runs chosen.
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { fmtDateTime, fmtNumber, t, tOr } from '../i18n.js';
import { scope } from '../session.js';
import { button, load, pageHeader, statusBadge, table } from '../ui.js';

const target = (x) => (x.app ? `app:${x.app}` : x.model ? x.model : x.knowledgeBase ? `kb:${x.knowledgeBase}` : '—');
const metric = (v) => (v === null || v === undefined ? '—' : fmtNumber(v, { maximumFractionDigits: 3 }));

export async function render(main) {
  const sets = h('div');
  const runs = h('div');
  const bakeoff = h('div', { 'aria-live': 'polite' });
  const chosen = new Set();
  const compare = () => load(bakeoff, async () => {
    const r = await get('/api/evaluations/bakeoff', { runs: [...chosen].join(',') });
    const names = [...new Set(r.rows.flatMap((row) => Object.keys(row.metrics || {})))];
    return table([
      { label: t('evals.rank'), cell: (row) => String(row.rank), class: 'num' },
      { label: t('evals.run'), cell: (row) => h('code', null, row.run) },
      { label: t('evals.target'), cell: (row) => target(row.target) },
      { label: t('evals.score'), cell: (row) => metric(row.score), class: 'num' },
      ...names.map((n) => ({ label: tOr(`evals.metric.${n}`, n), cell: (row) => metric(row.metrics[n]), class: 'num' })),
    ], r.rows, { caption: t('evals.bakeoff') });
  });
  replace(main, pageHeader(t('nav.evaluations')), h('p', { class: 'lead' }, t('evals.lead')),
    h('section', { class: 'card' }, h('h2', null, t('evals.sets')), sets),
    h('section', { class: 'card' }, h('h2', null, t('evals.runs')), runs,
      h('div', { class: 'row-actions' }, button(t('evals.compare'), () => (chosen.size ? compare() : null), { kind: 'primary' }))),
    h('section', { class: 'card' }, h('h2', null, t('evals.bakeoff')), bakeoff));
  await Promise.all([
    load(sets, async () => table([
      { label: t('evals.setName'), cell: (x) => h('strong', null, x.name) },
      { label: t('evals.version'), cell: (x) => String(x.version), class: 'num' },
      { label: t('evals.updated'), cell: (x) => fmtDateTime(x.updatedAt) },
    ], (await get('/api/evaluations/sets', scope())).sets, { empty: t('evals.noSets') })),
    load(runs, async () => table([
      { label: t('evals.choose'), cell: (x) => h('input', { type: 'checkbox', 'aria-label': t('evals.chooseRun', { id: x.id }), onChange: (e) => { if (e.target.checked) chosen.add(x.id); else chosen.delete(x.id); } }) },
      { label: t('evals.run'), cell: (x) => h('code', null, x.id) },
      { label: t('evals.set'), cell: (x) => `${x.set} v${x.setVersion}` },
      { label: t('evals.target'), cell: (x) => target(x.target) },
      { label: t('evals.status'), cell: (x) => statusBadge('runs.status', x.status) },
      { label: t('evals.progress'), cell: (x) => `${fmtNumber(x.done)} / ${fmtNumber(x.items)}`, class: 'num' },
      { label: t('evals.created'), cell: (x) => fmtDateTime(x.createdAt) },
    ], (await get('/api/evaluations/runs', scope())).runs, { empty: t('evals.noRuns') })),
  ]);
}
