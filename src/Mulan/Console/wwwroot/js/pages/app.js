// One app: its definition, versions (publish, roll back), a new version, its chat page and, for an assistant, a run.
import { h, replace } from '../dom.js';
import { get, post, put } from '../api.js';
import { fmtDateTime, t } from '../i18n.js';
import { can } from '../session.js';
import { appForm } from '../app-form.js';
import { alertBox, badge, button, confirmDialog, dialog, field, input, load, pageHeader, table, toast } from '../ui.js';

export async function render(main, { id }, { navigate, render: rerender }) {
  const app = await get(`/api/apps/${encodeURIComponent(id)}`);
  const base = `/api/apps/${encodeURIComponent(app.id)}`;
  const manage = can('admin');
  const versions = h('div');

  const publish = async (version) => {
    try {
      await post(`${base}/publish`, { version });
      toast(t('apps.publishedToast', { n: version }));
      rerender();
    } catch (e) { toast(alertBox(e).textContent, 'error'); }
  };
  const rollback = async (version) => {
    if (!await confirmDialog(t('apps.rollback'), t('apps.rollbackConfirm', { n: version }), t('apps.rollback'))) return;
    try {
      await post(`${base}/rollback`, { version });
      toast(t('apps.rolledBackToast', { n: version }));
      rerender();
    } catch (e) { toast(alertBox(e).textContent, 'error'); }
  };
  const edit = async () => {
    const form = await appForm(app.definition, { editing: true });
    const note = input({ name: 'note', maxlength: 500 });
    const ok = await dialog(t('apps.newVersion'), h('div', { class: 'stack' }, form.body, field(t('apps.note'), note)), {
      submitLabel: t('apps.saveVersion'),
      onSubmit: () => put(base, { ...form.value(), note: note.value || undefined }),
    });
    if (ok) rerender();
  };

  const loadVersions = () => load(versions, async () => {
    const list = (await get(`${base}/versions`)).versions;
    return table([
      { label: t('apps.version'), cell: (v) => String(v.version), class: 'num' },
      { label: t('apps.created'), cell: (v) => fmtDateTime(v.createdAt) },
      { label: t('apps.note'), cell: (v) => v.note || '—' },
      { label: t('apps.status'), cell: (v) => (v.published ? badge(t('apps.live'), 'ok') : '') },
      { label: t('common.actions'), cell: (v) => (!manage || v.published ? '' : app.publishedVersion && v.version < app.publishedVersion
        ? button(t('apps.rollback'), () => rollback(v.version))
        : button(t('apps.publish'), () => publish(v.version), { kind: 'primary' })) },
    ], [...list].sort((a, b) => b.version - a.version), { caption: t('apps.versions') });
  });

  const chatLink = `/chat/${encodeURIComponent(app.slug)}`;
  const playground = h('section', { class: 'card', 'aria-labelledby': 'app-try' }, h('h2', { id: 'app-try' }, t('apps.playground')),
    app.publishedVersion
      ? h('p', null, t('apps.chatLinkText'), ' ', h('a', { href: chatLink, target: '_blank', rel: 'noopener' }, new URL(chatLink, location.origin).href))
      : h('p', { class: 'muted' }, t('apps.publishFirst')),
    // Admins chat with the latest version right here, through the chat page itself (same origin, their session),
    // before publishing it: streaming, citations and feedback as employees will see them.
    app.publishedVersion && manage && app.kind !== 'assistant'
      ? h('iframe', { class: 'playground', title: t('apps.playground'), src: `${chatLink}?embed=1&version=${app.version}` })
      : null,
    app.kind === 'assistant' && app.publishedVersion && can('member') ? runForm(app, navigate) : null);

  const d = app.definition || {};
  replace(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/apps' }, t('nav.apps'))),
    pageHeader(app.name, manage ? button(t('apps.newVersion'), edit) : null,
      manage && app.version !== app.publishedVersion ? button(t('apps.publishLatest'), () => publish(app.version), { kind: 'primary' }) : null),
    h('dl', { class: 'facts' },
      h('dt', null, t('apps.slug')), h('dd', null, h('code', null, app.slug)),
      h('dt', null, t('apps.kind')), h('dd', null, t(`apps.kind.${app.kind}`)),
      h('dt', null, t('apps.model')), h('dd', null, d.model || '—'),
      h('dt', null, t('apps.gatewayModel')), h('dd', null, h('code', null, app.model)),
      h('dt', null, t('apps.published')), h('dd', null, app.publishedVersion ? badge(t('apps.publishedVersion', { n: app.publishedVersion }), 'ok') : badge(t('apps.draft')))),
    d.description ? h('p', { class: 'lead' }, d.description) : null,
    playground,
    h('section', { class: 'card', 'aria-labelledby': 'app-versions' }, h('h2', { id: 'app-versions' }, t('apps.versions')), versions));
  await loadVersions();
}

function runForm(app, navigate) {
  const text = input({ name: 'input', required: true });
  const error = h('div');
  const submit = async (e) => {
    e.preventDefault();
    try {
      const run = await post(`/api/apps/${encodeURIComponent(app.id)}/runs`, { input: text.value });
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) { replace(error, alertBox(err)); }
  };
  return h('form', { class: 'inline-form', onSubmit: submit }, field(t('runs.input'), text), h('button', { type: 'submit', class: 'btn btn-primary' }, t('runs.start')), error);
}
