// An answer with [n] markers as buttons that open the cited passage; the answer stays text throughout.
import { h } from './dom.js';
import { t } from './i18n.js';
import { dialog } from './ui.js';

export function openPassage(c) {
  const where = [c.section, c.page ? t('kb.pageN', { n: c.page }) : null].filter(Boolean).join(' · ');
  return dialog(t('kb.passageTitle', { n: c.marker ?? '' }), h('div', { class: 'stack passage' },
    h('p', null, h('strong', null, c.title), where ? h('span', { class: 'muted' }, ` — ${where}`) : null),
    h('blockquote', { class: 'passage-text' }, c.text)), { cancelLabel: t('common.close') });
}

export function answerWithCitations(answer, citations) {
  const byMarker = new Map((citations || []).map((c) => [String(c.marker), c]));
  const parts = String(answer || '').split(/(\[\d+\])/);
  return h('div', { class: 'answer' },
    h('p', { class: 'answer-text' }, parts.map((part) => {
      const m = /^\[(\d+)\]$/.exec(part);
      const c = m && byMarker.get(m[1]);
      return c ? h('button', { type: 'button', class: 'citation-marker', 'aria-label': t('kb.openCitation', { n: m[1], title: c.title }), onClick: () => openPassage(c) }, part) : part;
    })),
    citations && citations.length ? h('ol', { class: 'citations', 'aria-label': t('kb.citations') }, citations.map((c) =>
      h('li', null, h('button', { type: 'button', class: 'btn-link citation', onClick: () => openPassage(c) },
        `[${c.marker}] ${c.title}${c.section ? ` — ${c.section}` : ''}${c.page ? ` (${t('kb.pageN', { n: c.page })})` : ''}`)))) : null);
}
