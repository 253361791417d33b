// Who is signed in, which workspace the console works in, and what the role may do (to hide what it may not;
// the API enforces it either way and its 403 is shown as such).
import { configure, get } from './api.js';

const RANK = { viewer: 1, member: 2, admin: 3, owner: 4 };
const STORAGE = 'mulan.workspace';

export const session = { me: null, workspaces: [], workspace: null, role: null };

/** Reads /api/auth/me; null when nobody is signed in. */
export async function loadSession() {
  let me;
  try {
    me = await get('/api/auth/me', null, { quiet401: true });
  } catch (e) {
    if (e.status === 401 || e.status === 404) {
      session.me = null;
      return null;
    }
    throw e;
  }
  session.me = me;
  configure({ csrf: me.csrfToken });
  const memberships = me.memberships || [];
  session.workspaces = memberships.map((m) => ({ ...m.workspace, role: m.role }));
  if (isAdmin()) {
    try {
      const all = await get('/api/workspaces');
      session.workspaces = (all.workspaces || []).map((w) => ({ id: w.id, name: w.name, role: 'owner' }));
    } catch {
      // The picker then offers the memberships only.
    }
  }
  const stored = localStorage.getItem(STORAGE);
  const current = me.currentWorkspace && (me.currentWorkspace.id || me.currentWorkspace);
  const chosen = session.workspaces.find((w) => w.id === stored)
    || (!isAdmin() && (session.workspaces.find((w) => w.id === current) || session.workspaces[0]))
    || null;
  useWorkspace(chosen ? chosen.id : null, false);
  return me;
}

/** Picks the workspace the console works in (null: every workspace, for an administrator). */
export function useWorkspace(id, remember = true) {
  const w = session.workspaces.find((x) => x.id === id) || null;
  session.workspace = w;
  session.role = isAdmin() ? 'owner' : w ? w.role : null;
  configure({ workspace: w ? w.id : null });
  if (remember) {
    if (w) localStorage.setItem(STORAGE, w.id); else localStorage.removeItem(STORAGE);
  }
}

export function isAdmin() {
  return Boolean(session.me && session.me.user && session.me.user.instanceAdmin);
}

/** True when the signed-in caller holds at least this workspace role (administrators hold every role). */
export function can(role) {
  if (isAdmin()) return true;
  return (RANK[session.role] || 0) >= RANK[role];
}

/** The workspace to name in queries and bodies: the administrator's chosen one (users' is in the header). */
export function scope() {
  return isAdmin() && session.workspace ? { workspace: session.workspace.id } : {};
}

export function displayName() {
  const u = session.me && session.me.user;
  return u ? u.name || u.email || u.id : '';
}

/**
 * Where to read a workspace-wide list: the administrator reads /api/<path> (optionally filtered by workspace), a
 * workspace user the workspace's own /api/workspaces/<id>/<path>, which its members may read.
 */
export function readPath(path) {
  if (isAdmin() || !session.workspace) return { path: `/api/${path}`, query: scope() };
  return { path: `/api/workspaces/${encodeURIComponent(session.workspace.id)}/${path}`, query: {} };
}
