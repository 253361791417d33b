// A new app from a template (or from scratch), with the form of its kind.
import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { language, t } from '../i18n.js';
import { scope } from '../session.js';
import { appForm } from '../app-form.js';
import { alertBox, load, pageHeader } from '../ui.js';

const BLANK = {
  'knowledge-qa': { kind: 'knowledge-qa', slug: '', name: '', model: 'chat', instructions: '', knowledgeBases: [] },
  assistant: { kind: 'assistant', slug: '', name: '', model: 'chat', instructions: '', tools: [] },
  copywriter: { kind: 'copywriter', slug: '', name: '', model: 'chat', instructions: '', copywriter: { channel: 'generic', variants: 3 } },
};

async function showForm(area, definition, navigate) {
  const form = await appForm(definition);
  const error = h('div');
  const submit = async (e) => {
    e.preventDefault();
    replace(error);
    try {
      const created = await post('/api/apps', { ...form.value(), ...scope() });
      navigate(`/apps/${encodeURIComponent(created.id)}`);
    } catch (err) {
      replace(error, alertBox(err));
    }
  };
  replace(area, h('form', { class: 'card stack', onSubmit: submit, 'aria-label': t('apps.definition') },
    h('h2', null, t('apps.definitionOf', { kind: t(`apps.kind.${definition.kind}`) })), form.body, error,
    h('div', null, h('button', { type: 'submit', class: 'btn btn-primary' }, t('apps.createSubmit')))));
}

export async function render(main, params, { navigate }) {
  const gallery = h('div');
  const area = h('div');
  replace(main, h('p', { class: 'breadcrumb' }, h('a', { href: '/apps' }, t('nav.apps'))), pageHeader(t('apps.create')),
    h('p', { class: 'lead' }, t('apps.fromTemplate')), gallery, area);
  await load(gallery, async () => {
    const { templates } = await get('/api/app-templates');
    const lang = templates.some((x) => x.language === language()) ? language() : 'en';
    const pick = async (name) => load(area, async () => {
      const definition = await get(`/api/app-templates/${encodeURIComponent(name)}`, { language: lang });
      const holder = h('div');
      await showForm(holder, definition, navigate);
      return holder;
    });
    return h('div', { class: 'cards' },
      templates.filter((x) => x.language === lang).map((x) => h('article', { class: 'card template' },
        h('h2', null, x.title), h('p', { class: 'muted' }, t(`apps.kind.${x.kind}`)), h('p', null, x.description),
        h('button', { type: 'button', class: 'btn btn-secondary', onClick: () => pick(x.name), 'aria-label': t('apps.useTemplateNamed', { name: x.title }) }, t('apps.useTemplate')))),
      Object.keys(BLANK).map((kind) => h('article', { class: 'card template blank' },
        h('h2', null, t('apps.blank', { kind: t(`apps.kind.${kind}`) })), h('p', null, t('apps.blankText')),
        h('button', { type: 'button', class: 'btn btn-secondary', onClick: () => showForm(area, BLANK[kind], navigate) }, t('apps.startBlank')))));
  });
}
