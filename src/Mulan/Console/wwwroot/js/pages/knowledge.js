// Knowledge bases: the list and a new one.
import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { fmtDate, t } from '../i18n.js';
import { can, scope } from '../session.js';
import { button, dialog, field, input, load, pageHeader, table } from '../ui.js';

export async function render(main, params, { navigate }) {
  const list = h('div');
  const refresh = () => load(list, async () => {
    const { knowledgeBases } = await get('/api/knowledge-bases', scope());
    return table([
      { label: t('kb.name'), cell: (kb) => h('a', { href: `/knowledge/${encodeURIComponent(kb.id)}` }, kb.name) },
      { label: t('kb.description'), cell: (kb) => kb.description || '—' },
      { label: t('kb.embeddingModel'), cell: (kb) => kb.embeddingModel || '—' },
      { label: t('kb.created'), cell: (kb) => fmtDate(kb.createdAt) },
    ], knowledgeBases, { empty: t('kb.empty'), caption: t('nav.knowledge') });
  });
  const create = async () => {
    const name = input({ name: 'name', required: true, maxlength: 200 });
    const description = input({ name: 'description', maxlength: 2000 });
    let created = null;
    await dialog(t('kb.create'), h('div', { class: 'form-grid' }, field(t('kb.name'), name), field(t('kb.description'), description)), {
      submitLabel: t('kb.createSubmit'),
      onSubmit: async () => {
        created = await post('/api/knowledge-bases', { name: name.value.trim(), description: description.value.trim() || undefined, ...scope() });
      },
    });
    if (created) navigate(`/knowledge/${encodeURIComponent(created.id)}`);
  };
  replace(main, pageHeader(t('nav.knowledge'), can('admin') ? button(t('kb.create'), create, { kind: 'primary' }) : null),
    h('p', { class: 'lead' }, t('kb.lead')), list);
  await refresh();
}
