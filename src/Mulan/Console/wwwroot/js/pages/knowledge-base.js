// One knowledge base: documents (upload with progress, status and errors, rename, replace, delete), the search
// playground with each result's keyword, vector and fused scores, and questions answered with citations.
import { h, replace } from '../dom.js';
import { del, get, patch, post, upload } from '../api.js';
import { fmtBytes, fmtDateTime, fmtNumber, t } from '../i18n.js';
import { can } from '../session.js';
import { answerWithCitations } from '../citations.js';
import { alertBox, button, confirmDialog, dialog, field, input, load, pageHeader, select, statusBadge, table, toast } from '../ui.js';

const score = (x) => (x === null || x === undefined ? '—' : fmtNumber(x, { maximumFractionDigits: 4 }));

function documentsSection(kb) {
  const base = `/api/knowledge-bases/${encodeURIComponent(kb.id)}`;
  const list = h('div');
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': t('kb.uploadProgress') });
  const progressText = h('span', { class: 'muted', role: 'status' });
  let timer = null;

  const refresh = async () => {
    clearTimeout(timer);
    try {
      const { documents } = await get(`${base}/documents`, { pageSize: 1000 });
      replace(list, table([
        { label: t('kb.docTitle'), cell: (d) => h('span', { class: 'doc-title' }, d.title) },
        { label: t('kb.source'), cell: (d) => h('span', { class: 'muted' }, d.source) },
        { label: t('kb.status'), cell: (d) => [statusBadge('kb.docStatus', d.status), d.error ? h('div', { class: 'error-text' }, d.error) : null] },
        { label: t('kb.chunks'), cell: (d) => fmtNumber(d.chunks), class: 'num' },
        { label: t('kb.size'), cell: (d) => fmtBytes(d.size), class: 'num' },
        { label: t('kb.updated'), cell: (d) => fmtDateTime(d.updatedAt) },
        { label: t('common.actions'), cell: (d) => (can('admin') ? h('div', { class: 'row-actions' },
          button(t('kb.rename'), () => rename(d)), button(t('kb.replace'), () => replaceDoc(d)),
          button(t('common.delete'), () => remove(d), { kind: 'danger' })) : '') },
      ], documents, { empty: t('kb.noDocuments'), caption: t('kb.documents') }));
      if (documents.some((d) => d.status === 'queued' || d.status === 'processing')) timer = setTimeout(refresh, 800);
    } catch (e) {
      replace(list, alertBox(e));
    }
  };

  const send = async (files, names) => {
    const form = new FormData();
    files.forEach((f, i) => form.append('files', f, names ? names[i] : f.name));
    progress.hidden = false;
    progress.value = 0;
    replace(progressText, t('kb.uploading'));
    try {
      await upload(`${base}/documents`, form, (ratio) => {
        progress.value = ratio;
        replace(progressText, t('kb.uploadingPercent', { percent: Math.round(ratio * 100) }));
      });
      replace(progressText, t('kb.uploaded'));
    } catch (e) {
      replace(progressText, alertBox(e));
    }
    refresh();
  };

  const picker = h('input', { type: 'file', multiple: true, class: 'visually-hidden', id: 'kb-files', 'aria-label': t('kb.chooseFiles') });
  picker.addEventListener('change', () => { if (picker.files.length) send([...picker.files]); picker.value = ''; });

  const addText = async () => {
    const title = input({ name: 'title', required: true, maxlength: 300 });
    const text = h('textarea', { name: 'text', rows: 8, required: true });
    const ok = await dialog(t('kb.addText'), h('div', { class: 'stack' }, field(t('kb.docTitle'), title), field(t('kb.text'), text)), {
      submitLabel: t('kb.add'),
      onSubmit: () => post(`${base}/documents`, { title: title.value, text: text.value }),
    });
    if (ok) refresh();
  };

  const rename = async (d) => {
    const title = input({ name: 'title', required: true, maxlength: 300, value: d.title });
    const ok = await dialog(t('kb.rename'), field(t('kb.docTitle'), title), {
      onSubmit: () => patch(`${base}/documents/${encodeURIComponent(d.id)}`, { title: title.value }),
    });
    if (ok) refresh();
  };

  // Uploading under the document's own name replaces it once the new content is ready.
  const replaceDoc = (d) => {
    const one = h('input', { type: 'file', class: 'visually-hidden', 'aria-label': t('kb.replace') });
    one.addEventListener('change', () => { if (one.files.length) send([one.files[0]], [d.source]); one.remove(); });
    document.body.append(one);
    one.click();
  };

  const remove = async (d) => {
    if (!await confirmDialog(t('kb.deleteDoc'), t('kb.deleteDocConfirm', { title: d.title }), t('common.delete'))) return;
    try {
      await del(`${base}/documents/${encodeURIComponent(d.id)}`);
      refresh();
    } catch (e) { toast(alertBox(e).textContent, 'error'); }
  };

  // Members upload; admins also rename and delete (the API's role matrix, docs/people.md).
  const tools = can('member') ? h('div', { class: 'upload-bar' },
    h('label', { for: 'kb-files', class: 'btn btn-primary' }, t('kb.upload')), picker,
    button(t('kb.addText'), addText), progress, progressText) : null;
  refresh();
  return h('section', { class: 'card', 'aria-labelledby': 'kb-docs' }, h('h2', { id: 'kb-docs' }, t('kb.documents')), tools, list);
}

function searchSection(kb) {
  const query = input({ name: 'query', required: true, type: 'search' });
  const mode = select([{ value: '', label: t('kb.modeDefault') }, ...['hybrid', 'keyword', 'vector'].map((m) => ({ value: m, label: t(`kb.mode.${m}`) }))], { name: 'mode' });
  const topK = input({ type: 'number', name: 'topK', min: '1', max: '50', value: '5' });
  const results = h('div', { 'aria-live': 'polite' });
  const submit = (e) => {
    e.preventDefault();
    load(results, async () => {
      const r = await post(`/api/knowledge-bases/${encodeURIComponent(kb.id)}/search`, { query: query.value, topK: Number(topK.value) || 5, mode: mode.value || undefined });
      return [r.warning ? h('p', { class: 'alert alert-warn' }, r.warning) : null,
        h('p', { class: 'muted' }, t('kb.searchMode', { mode: t(`kb.mode.${r.mode}`) })),
        r.results.length ? h('ol', { class: 'results' }, r.results.map((x) => h('li', { class: 'result' },
          h('div', { class: 'result-head' }, h('strong', null, x.title), x.section ? h('span', { class: 'muted' }, ` — ${x.section}`) : null,
            x.page ? h('span', { class: 'muted' }, ` (${t('kb.pageN', { n: x.page })})`) : null),
          h('p', { class: 'result-text' }, x.text),
          h('dl', { class: 'scores' },
            h('dt', null, t('kb.fusedScore')), h('dd', { class: 'score-fused' }, score(x.score)),
            h('dt', null, t('kb.keywordScore')), h('dd', { class: 'score-keyword' }, score(x.explanation.keywordScore), x.explanation.keywordRank ? ` (#${x.explanation.keywordRank})` : ''),
            h('dt', null, t('kb.vectorScore')), h('dd', { class: 'score-vector' }, score(x.explanation.vectorScore), x.explanation.vectorRank ? ` (#${x.explanation.vectorRank})` : ''),
            Object.keys(x.explanation.matchedTerms || {}).length ? [h('dt', null, t('kb.matchedTerms')), h('dd', null, Object.keys(x.explanation.matchedTerms).join(', '))] : null)))) : h('p', { class: 'empty' }, t('kb.noResults'))];
    });
  };
  return h('section', { class: 'card', 'aria-labelledby': 'kb-search' }, h('h2', { id: 'kb-search' }, t('kb.search')),
    h('form', { class: 'inline-form', onSubmit: submit }, field(t('kb.query'), query), field(t('kb.modeLabel'), mode), field(t('kb.topK'), topK),
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('kb.searchSubmit'))), results);
}

function askSection(kb) {
  const question = input({ name: 'question', required: true });
  const answer = h('div', { 'aria-live': 'polite' });
  const submit = (e) => {
    e.preventDefault();
    load(answer, async () => {
      const r = await post(`/api/knowledge-bases/${encodeURIComponent(kb.id)}/ask`, { question: question.value });
      return [r.warning ? h('p', { class: 'alert alert-warn' }, r.warning) : null,
        r.found ? null : h('p', { class: 'alert alert-warn' }, t('kb.notFound')),
        answerWithCitations(r.answer, r.citations)];
    });
  };
  return h('section', { class: 'card', 'aria-labelledby': 'kb-ask' }, h('h2', { id: 'kb-ask' }, t('kb.ask')),
    h('form', { class: 'inline-form', onSubmit: submit }, field(t('kb.question'), question), h('button', { type: 'submit', class: 'btn btn-primary' }, t('kb.askSubmit'))), answer);
}

export async function render(main, { id }, { navigate }) {
  const kb = await get(`/api/knowledge-bases/${encodeURIComponent(id)}`);
  const removeKb = async () => {
    if (!await confirmDialog(t('kb.delete'), t('kb.deleteConfirm', { name: kb.name }), t('common.delete'))) return;
    try {
      await del(`/api/knowledge-bases/${encodeURIComponent(kb.id)}`);
      navigate('/knowledge');
    } catch (e) { toast(alertBox(e).textContent, 'error'); }
  };
  replace(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/knowledge' }, t('nav.knowledge'))),
    pageHeader(kb.name, can('admin') ? button(t('kb.delete'), removeKb, { kind: 'danger' }) : null),
    kb.description ? h('p', { class: 'lead' }, kb.description) : null,
    documentsSection(kb),
    can('member') ? [searchSection(kb), askSection(kb)] : h('p', { class: 'muted' }, t('kb.memberToSearch')));
}
