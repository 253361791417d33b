// Settings → users: invite with a role (the one-time link is shown to pass on), change a role, remove.
import { h, replace } from '../dom.js';
import { del, get, patch, post } from '../api.js';
import { fmtDateTime, t } from '../i18n.js';
import { can, isAdmin, session } from '../session.js';
import { alertBox, badge, button, confirmDialog, copyField, dialog, field, input, load, pageHeader, select, table, toast } from '../ui.js';

const ROLES = ['viewer', 'member', 'admin', 'owner'];

function roleOptions(selected) {
  // Nobody hands out a role above their own.
  return ROLES.filter((r) => can(r)).map((r) => ({ value: r, label: t(`role.${r}`), selected: r === selected }));
}

function workspaceSelect() {
  return select(session.workspaces.map((w) => ({ value: w.id, label: w.name, selected: session.workspace && session.workspace.id === w.id })), { name: 'workspace' });
}

// A user's role in the workspace the console works in (or their first, for the administrator's overview).
function membership(user) {
  const list = user.memberships || (user.workspace ? [{ workspace: user.workspace, role: user.role }] : []);
  const here = session.workspace ? list.find((m) => (m.workspace.id || m.workspace) === session.workspace.id) : null;
  return here || list[0] || null;
}

async function invite(refresh) {
  const email = input({ type: 'email', name: 'email', required: true, autocomplete: 'off' });
  const name = input({ name: 'name', autocomplete: 'off' });
  const role = select(roleOptions('member'), { name: 'role' });
  const workspace = workspaceSelect();
  let created = null;
  await dialog(t('users.invite'), h('div', { class: 'form-grid' },
    field(t('users.email'), email), field(t('users.name'), name), field(t('users.role'), role), field(t('users.workspace'), workspace)), {
    submitLabel: t('users.inviteSubmit'),
    onSubmit: async () => {
      created = await post('/api/users', { email: email.value.trim(), name: name.value.trim() || undefined, role: role.value, workspace: workspace.value });
    },
  });
  if (!created) return;
  refresh();
  if (created.invitation) {
    const link = new URL(created.invitation.url, location.origin).href;
    await dialog(t('users.invitedTitle', { email: created.email || email.value }), h('div', { class: 'stack' },
      h('p', null, t('users.invitedText', { expires: fmtDateTime(created.invitation.expiresAt) })),
      copyField(t('users.invitationLink'), link)), { cancelLabel: t('common.done') });
  }
}

async function changeRole(user, current, refresh) {
  const role = select(roleOptions(current.role), { name: 'role' });
  const workspace = current.workspace.id || current.workspace;
  const ok = await dialog(t('users.changeRole', { name: user.name || user.email }), field(t('users.role'), role), {
    onSubmit: () => patch(`/api/users/${encodeURIComponent(user.id)}`, { role: role.value, workspace }),
  });
  if (ok) { toast(t('users.saved')); refresh(); }
}

async function remove(user, current, refresh) {
  if (!await confirmDialog(t('users.remove'), t('users.removeConfirm', { name: user.name || user.email }), t('users.remove'))) return;
  try {
    await del(`/api/users/${encodeURIComponent(user.id)}`, { workspace: current ? current.workspace.id || current.workspace : undefined });
    toast(t('users.removed'));
    refresh();
  } catch (e) { toast(alertBox(e).textContent, 'error'); }
}

export async function render(main) {
  const list = h('div');
  const manage = can('admin');
  const refresh = () => load(list, async () => {
    const { users } = await get('/api/users', isAdmin() && session.workspace ? { workspace: session.workspace.id } : undefined);
    return table([
      { label: t('users.name'), cell: (u) => h('strong', null, u.name || '—') },
      { label: t('users.email'), cell: (u) => u.email || '—' },
      { label: t('users.workspace'), cell: (u) => { const m = membership(u); return m ? m.workspace.name || m.workspace : '—'; } },
      { label: t('users.role'), cell: (u) => (u.instanceAdmin ? badge(t('role.instanceAdmin'), 'ok') : membership(u) ? badge(t(`role.${membership(u).role}`)) : '—') },
      { label: t('users.status'), cell: (u) => (u.disabled ? badge(t('users.disabled'), 'bad') : u.hasPassword === false ? badge(t('users.pending'), 'warn') : badge(t('users.active'), 'ok')) },
      { label: t('common.actions'), cell: (u) => { const m = membership(u); return manage && m && !u.instanceAdmin ? h('div', { class: 'row-actions' },
        button(t('users.changeRoleShort'), () => changeRole(u, m, refresh)),
        button(t('users.remove'), () => remove(u, m, refresh), { kind: 'danger' })) : ''; } },
    ], users, { empty: t('users.empty'), caption: t('nav.users') });
  });
  replace(main, pageHeader(t('nav.users'), manage ? button(t('users.invite'), () => invite(refresh), { kind: 'primary' }) : null),
    h('p', { class: 'lead' }, t('users.lead')), list);
  await refresh();
}
