// Sign-in: email and password, or the administrator key printed at start-up. Both end in the session cookie.
import { h, replace } from '../dom.js';
import { post } from '../api.js';
import { t } from '../i18n.js';
import { loadSession } from '../session.js';
import { alertBox, field, input, languagePicker } from '../ui.js';

function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  // Only a path of this console; never another origin.
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export async function render(main, params, { navigate, render: redraw }) {
  let mode = 'password';
  const error = h('div');
  const email = input({ type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = input({ type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const adminKey = input({ type: 'password', name: 'adminKey', autocomplete: 'off', required: true, class: 'mono' });
  const fields = h('div');
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': t('signin.method') });

  const draw = () => {
    replace(tabs,
      h('button', { type: 'button', class: ['tab', mode === 'password' && 'active'], 'aria-pressed': String(mode === 'password'), onClick: () => { mode = 'password'; draw(); } }, t('signin.withPassword')),
      h('button', { type: 'button', class: ['tab', mode === 'key' && 'active'], 'aria-pressed': String(mode === 'key'), onClick: () => { mode = 'key'; draw(); } }, t('signin.withAdminKey')));
    replace(fields, mode === 'password'
      ? [field(t('signin.email'), email), field(t('signin.password'), password)]
      : [field(t('signin.adminKey'), adminKey, t('signin.adminKeyHint'))]);
    email.required = password.required = mode === 'password';
    adminKey.required = mode === 'key';
  };

  const submit = async (e) => {
    e.preventDefault();
    replace(error);
    try {
      await post('/api/auth/login', mode === 'password' ? { email: email.value, password: password.value } : { adminKey: adminKey.value.trim() });
      adminKey.value = '';
      password.value = '';
      await loadSession();
      navigate(nextPath(), { replaceState: true });
    } catch (err) {
      const text = err.status === 401 ? t('signin.wrong') : err.status === 423 || err.status === 429 ? t('signin.tooMany') : null;
      replace(error, text ? h('div', { class: 'alert alert-error', role: 'alert' }, text) : alertBox(err));
    }
  };

  draw();
  replace(main, h('section', { class: 'card signin' },
    h('div', { class: 'signin-top' }, h('div', { class: 'signin-brand' }, h('img', { src: '/assets/icon.svg', alt: '', width: 40, height: 40 }), h('span', null, t('shell.brand'))),
      languagePicker(redraw)),
    h('h1', null, t('signin.title')),
    tabs,
    h('form', { onSubmit: submit, class: 'stack' }, fields, error,
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('signin.submit')))));
  document.title = t('signin.title');
}
