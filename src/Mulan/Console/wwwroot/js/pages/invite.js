// Accepting an invitation: the link's token, a name and a password; then signed in like a login.
import { h, replace } from '../dom.js';
import { post } from '../api.js';
import { t } from '../i18n.js';
import { loadSession } from '../session.js';
import { alertBox, field, input, languagePicker } from '../ui.js';

export async function render(main, { token }, { navigate, render: redraw }) {
  const error = h('div');
  const name = input({ name: 'name', autocomplete: 'name' });
  const password = input({ type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const repeat = input({ type: 'password', name: 'repeat', autocomplete: 'new-password', required: true, minlength: 8 });
  const submit = async (e) => {
    e.preventDefault();
    replace(error);
    if (password.value !== repeat.value) {
      replace(error, h('div', { class: 'alert alert-error', role: 'alert' }, t('invite.mismatch')));
      return;
    }
    try {
      await post('/api/auth/accept', { token, password: password.value, name: name.value || undefined });
      await loadSession();
      navigate('/', { replaceState: true });
    } catch (err) {
      replace(error, err.status === 404 || err.status === 410 ? h('div', { class: 'alert alert-error', role: 'alert' }, t('invite.invalid')) : alertBox(err));
    }
  };
  replace(main, h('section', { class: 'card signin' },
    h('div', { class: 'signin-top' }, h('h1', null, t('invite.title')), languagePicker(redraw)),
    h('p', null, t('invite.intro')),
    h('form', { onSubmit: submit, class: 'stack' },
      field(t('invite.name'), name), field(t('invite.password'), password, t('invite.passwordHint')), field(t('invite.repeat'), repeat),
      error, h('button', { type: 'submit', class: 'btn btn-primary' }, t('invite.submit')))));
  document.title = t('invite.title');
}
