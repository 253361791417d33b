// The chat page of a published app. A share token comes in the URL fragment (#share=...), which browsers never send
// to the server or in a Referer; it is moved to sessionStorage and taken out of the address bar at once, then sent as
// a bearer token. Without one, the page uses the console's sign-in (cookie plus X-CSRF-Token on POST).
import { render } from './markdown.js';

const LANGUAGES = ['en', 'zh-Hans', 'zh-Hant'];
const slug = decodeURIComponent(location.pathname.replace(/^\/chat\//, '').replace(/\/$/, ''));
const params = new URLSearchParams(location.search);
const workspace = params.get('workspace');
// The console's playground tries a version before it is published (?version=N; the API allows it to admins only).
const tryVersion = /^[1-9][0-9]{0,6}$/.test(params.get('version') ?? '') ? Number(params.get('version')) : null;
const shareKey = 'mulan.share.' + slug;
let strings = {};
let share = null;
let csrf = null;
let conversationId = null;
let busy = false;

function t(key, values = {}) {
  return (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ''));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function pickLanguage() {
  const saved = localStorage.getItem('mulan.language');
  if (LANGUAGES.includes(saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const l = tag.toLowerCase();
    if (l.startsWith('zh')) return /hant|tw|hk|mo/.test(l) ? 'zh-Hant' : 'zh-Hans';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

async function loadStrings(language) {
  const response = await fetch(`/assets/chat/i18n/${language}.json`);
  strings = await response.json();
  document.documentElement.lang = language;
}

function readShare() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('share');
  if (token) {
    sessionStorage.setItem(shareKey, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(shareKey);
}

function headers(json) {
  const h = {};
  if (json) h['Content-Type'] = 'application/json';
  if (share) h.Authorization = 'Bearer ' + share;
  else if (csrf) h['X-CSRF-Token'] = csrf;
  if (workspace) h['X-Mulan-Workspace'] = workspace;
  return h;
}

async function api(path, options = {}) {
  const response = await fetch(`/api/chat/${encodeURIComponent(slug)}${path}`, {
    ...options, credentials: 'same-origin', headers: headers(options.body !== undefined),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    const error = new Error(problem.detail ?? response.statusText);
    error.status = response.status;
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

// ---- layout ----

const ui = {};

function layout(app) {
  const root = document.getElementById('chat-root');
  root.replaceChildren();
  document.title = app.name;
  const language = el('select', { id: 'language', onchange: async (e) => { localStorage.setItem('mulan.language', e.target.value); await loadStrings(e.target.value); layout(app); await showHistory(); if (conversationId) await openConversation(conversationId); } },
    ...LANGUAGES.map((l) => el('option', { value: l, selected: document.documentElement.lang === l }, { en: 'English', 'zh-Hans': '简体中文', 'zh-Hant': '繁體中文' }[l])));
  ui.history = el('ul', { class: 'history-list' });
  ui.messages = el('div', { class: 'messages', 'aria-live': 'polite' });
  ui.input = el('textarea', { id: 'message', rows: '2', placeholder: t('messagePlaceholder'), maxlength: '4000' });
  ui.send = el('button', { type: 'submit', class: 'send' }, t('send'));
  ui.status = el('p', { class: 'status', role: 'status' });
  ui.panel = el('aside', { class: 'passage', hidden: true, 'aria-labelledby': 'passage-title' });
  ui.input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); ui.form.requestSubmit(); } });
  ui.form = el('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); send(ui.input.value); } },
    el('label', { for: 'message', class: 'visually-hidden' }, t('messageLabel')), ui.input, ui.send);
  root.append(
    el('header', { class: 'top' }, el('h1', {}, app.name),
      el('div', { class: 'language' }, el('label', { for: 'language' }, t('languageLabel')), language)),
    el('div', { class: 'body' },
      el('nav', { class: 'history', 'aria-labelledby': 'history-title' },
        el('h2', { id: 'history-title' }, t('history')),
        el('button', { type: 'button', class: 'new', onclick: () => newConversation(app) }, t('newConversation')),
        ui.history),
      el('main', { class: 'chat' }, ui.messages, ui.status, ui.form),
      ui.panel));
  if (!conversationId) greet(app);
}

function greet(app) {
  ui.messages.replaceChildren();
  if (app.greeting) ui.messages.append(bubble('assistant', app.greeting, null, []));
  if (app.suggested?.length) {
    ui.messages.append(el('div', { class: 'suggested' }, el('h2', {}, t('suggested')),
      el('ul', {}, ...app.suggested.map((q) => el('li', {}, el('button', { type: 'button', onclick: () => send(q) }, q))))));
  }
}

function newConversation(app) {
  conversationId = null;
  greet(app);
  ui.input.focus();
}

// ---- messages ----

function citationButton(citations) {
  return (marker) => {
    const c = citations.find((x) => x.marker === marker);
    if (!c) return null;
    return el('button', { type: 'button', class: 'cite', 'aria-label': `${t('source', { n: marker })}: ${c.title ?? ''}`, onclick: () => openPassage(c) }, String(marker));
  };
}

function bubble(role, text, requestId, citations) {
  const body = el('div', { class: 'content' });
  body.append(render(text, { citation: citationButton(citations) }));
  const item = el('article', { class: `message ${role}`, 'aria-label': role === 'user' ? t('you') : t('assistant') }, body);
  if (role === 'assistant' && requestId) finish(item, text, requestId, citations);
  return item;
}

function finish(item, text, requestId, citations) {
  const body = item.querySelector('.content');
  body.replaceChildren(render(text, { citation: citationButton(citations) }));
  if (citations.length) {
    item.append(el('ol', { class: 'sources', 'aria-label': t('sources') },
      ...citations.map((c) => el('li', {}, el('button', { type: 'button', class: 'source', onclick: () => openPassage(c) },
        `[${c.marker}] ${c.title ?? ''}${c.page ? ' · ' + t('page', { n: c.page }) : ''}`)))));
  }
  const note = el('span', { class: 'note', role: 'status' });
  const rate = (rating) => async (e) => {
    try {
      await api('/feedback', { method: 'POST', body: JSON.stringify({ requestId, rating }) });
      for (const b of item.querySelectorAll('.rate')) b.setAttribute('aria-pressed', String(b === e.currentTarget));
      note.textContent = t('feedbackSaved');
    } catch (err) {
      note.textContent = t('error', { message: err.message });
    }
  };
  item.append(el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'copy', onclick: async () => { await navigator.clipboard?.writeText(text); note.textContent = t('copied'); } }, t('copy')),
    el('button', { type: 'button', class: 'rate up', 'aria-label': t('helpful'), 'aria-pressed': 'false', onclick: rate('up') }, '👍'),
    el('button', { type: 'button', class: 'rate down', 'aria-label': t('notHelpful'), 'aria-pressed': 'false', onclick: rate('down') }, '👎'),
    note));
}

async function openPassage(c) {
  ui.panel.hidden = false;
  const close = el('button', { type: 'button', class: 'close', onclick: () => { ui.panel.hidden = true; } }, t('close'));
  ui.panel.replaceChildren(el('h2', { id: 'passage-title' }, c.title ?? t('passage')), el('p', {}, t('loading')), close);
  try {
    const p = await api(`/passages/${encodeURIComponent(c.passageId)}`);
    const where = [p.section, p.page ? t('page', { n: p.page }) : null].filter(Boolean).join(' · ');
    ui.panel.replaceChildren(el('h2', { id: 'passage-title' }, p.title), where ? el('p', { class: 'where' }, where) : null,
      el('blockquote', { class: 'passage-text' }, p.text), close);
  } catch (err) {
    ui.panel.replaceChildren(el('h2', { id: 'passage-title' }, t('passage')), el('p', {}, t('error', { message: err.message })), close);
  }
  close.focus();
}

async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data) yield { name, data: JSON.parse(data) };
    }
  }
}

async function send(text) {
  text = text.trim();
  if (!text || busy) return;
  busy = true;
  ui.send.disabled = true;
  ui.status.textContent = t('sending');
  ui.messages.querySelector('.suggested')?.remove();
  ui.messages.append(bubble('user', text, null, []));
  ui.input.value = '';
  const answer = bubble('assistant', '', null, []);
  answer.setAttribute('aria-busy', 'true');
  ui.messages.append(answer);
  let whole = '';
  try {
    const response = await fetch(`/api/chat/${encodeURIComponent(slug)}/messages`, {
      method: 'POST', credentials: 'same-origin', headers: headers(true),
      body: JSON.stringify({ message: text, ...(conversationId ? { conversationId } : {}), ...(tryVersion ? { version: tryVersion } : {}) }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw Object.assign(new Error(problem.detail ?? response.statusText), { status: response.status });
    }
    for await (const e of events(response)) {
      if (e.name === 'delta') {
        whole += e.data.text;
        answer.querySelector('.content').replaceChildren(render(whole));
        answer.scrollIntoView({ block: 'end' });
      } else if (e.name === 'done') {
        conversationId = e.data.conversationId ?? conversationId;
        finish(answer, whole, e.data.requestId, e.data.citations ?? []);
      } else if (e.name === 'error') {
        throw new Error(e.data.message);
      }
    }
    ui.status.textContent = '';
    await showHistory();
  } catch (err) {
    ui.status.textContent = err.status === 429 ? t('rateLimited') : t('error', { message: err.message });
  } finally {
    answer.removeAttribute('aria-busy');
    busy = false;
    ui.send.disabled = false;
  }
}

// ---- history ----

async function showHistory() {
  const list = await api('/conversations');
  ui.history.replaceChildren(...(list.conversations.length ? list.conversations.map((c) => el('li', {},
    el('button', { type: 'button', class: 'conversation', 'aria-current': c.id === conversationId ? 'true' : null, onclick: () => openConversation(c.id) },
      c.title, el('small', {}, new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(c.updatedAt))))))
    : [el('li', { class: 'empty' }, t('noConversations'))]));
}

async function openConversation(id) {
  const c = await api(`/conversations/${encodeURIComponent(id)}`);
  conversationId = c.id;
  ui.messages.replaceChildren(...c.messages.map((m) => bubble(m.role, m.content, m.requestId, m.citations ?? [])));
  for (const b of ui.history.querySelectorAll('.conversation')) b.toggleAttribute('aria-current', false);
  await showHistory();
}

// ---- start ----

function notice(message, link) {
  const root = document.getElementById('chat-root');
  root.replaceChildren(el('main', { class: 'notice' }, el('h1', {}, t('title')), el('p', {}, message), link ? el('a', { href: link }, t('signInLink')) : null));
}

async function start() {
  await loadStrings(pickLanguage());
  share = readShare();
  if (!share) {
    const me = await fetch('/api/auth/me', { credentials: 'same-origin' });
    if (!me.ok) {
      notice(t('signIn'), '/?return=' + encodeURIComponent(location.pathname + location.search));
      return;
    }
    csrf = (await me.json()).csrfToken ?? null;
  }
  let app;
  try {
    app = await api(tryVersion ? `?version=${tryVersion}` : '');
  } catch (err) {
    if (err.status === 401 && share) sessionStorage.removeItem(shareKey);
    notice(err.status === 401 ? (share ? t('linkInvalid') : t('signIn')) : err.status === 404 ? t('notFound') : t('error', { message: err.message }));
    return;
  }
  layout(app);
  await showHistory();
}

start();
