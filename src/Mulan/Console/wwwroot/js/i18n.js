// Translations from /assets/i18n/<lang>.json; formatting of numbers, money and dates with Intl per culture.

export const LANGUAGES = [
  { code: 'zh-Hans', label: '简体中文', locale: 'zh-Hans-CN' },
  { code: 'zh-Hant', label: '繁體中文', locale: 'zh-Hant-TW' },
  { code: 'en', label: 'English', locale: 'en' },
];
const STORAGE = 'mulan.language';
let current = 'en';
let strings = {};
let fallback = {};
// Keys asked for but absent, so that a test can assert that every string the pages used exists.
const missing = new Set();
window.mulanMissingKeys = missing;

/** The language for a browser's preference list: zh-TW/HK/MO (or a Hant script) → zh-Hant, other zh → zh-Hans. */
export function pickLanguage(preferences) {
  for (const raw of preferences || []) {
    const tag = String(raw).toLowerCase();
    if (tag === 'zh' || tag.startsWith('zh-')) {
      if (tag.includes('-hant')) return 'zh-Hant';
      if (tag.includes('-hans')) return 'zh-Hans';
      return /^zh-(tw|hk|mo)\b/.test(tag) ? 'zh-Hant' : 'zh-Hans';
    }
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

export function language() {
  return current;
}

export function locale() {
  return LANGUAGES.find((l) => l.code === current).locale;
}

async function load(code) {
  const response = await fetch(`/assets/i18n/${code}.json`, { credentials: 'same-origin' });
  return response.json();
}

/** Loads the remembered language, else the browser's. */
export async function initLanguage() {
  const stored = localStorage.getItem(STORAGE);
  const code = LANGUAGES.some((l) => l.code === stored) ? stored : pickLanguage(navigator.languages || [navigator.language]);
  fallback = await load('en');
  await setLanguage(code, false);
}

export async function setLanguage(code, remember = true) {
  strings = code === 'en' ? fallback : await load(code);
  current = code;
  document.documentElement.lang = code;
  if (remember) localStorage.setItem(STORAGE, code);
}

/** t('keys.create') or t('keys.created', {name}) — {name} placeholders are replaced as text. */
export function t(key, params) {
  let text = strings[key] ?? fallback[key];
  if (text === undefined) {
    missing.add(key);
    text = key;
  }
  return params ? text.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name]))) : text;
}

/** A translation when there is one (a status, an action name), else the value itself. */
export function tOr(key, value) {
  return strings[key] ?? fallback[key] ?? String(value ?? '');
}

export function fmtNumber(n, options) {
  return n === null || n === undefined ? '—' : new Intl.NumberFormat(locale(), options).format(n);
}

export function fmtPercent(ratio) {
  return fmtNumber(ratio ?? 0, { style: 'percent', maximumFractionDigits: 1 });
}

export function fmtMoney(money) {
  if (!money || money.amount === null || money.amount === undefined) return '—';
  const digits = Math.abs(money.amount) < 1 && money.amount !== 0 ? 4 : 2;
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: money.currency || 'USD', maximumFractionDigits: digits }).format(money.amount);
}

export function fmtDate(iso) {
  return iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso)) : '—';
}

export function fmtDateTime(iso) {
  return iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : '—';
}

export function fmtMs(ms) {
  return ms === null || ms === undefined ? '—' : `${fmtNumber(Math.round(ms))} ms`;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${fmtNumber(n, { maximumFractionDigits: i ? 1 : 0 })} ${units[i]}`;
}
