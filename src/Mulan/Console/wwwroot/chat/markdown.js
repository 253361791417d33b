// Markdown to DOM nodes, for model output. Nothing is ever parsed as HTML: every piece of text becomes a text node, so
// "<img onerror=...>" or "<script>" in an answer shows as those characters. Links are kept only for http: and https:
// URLs (rel="noopener noreferrer", new tab); any other link shows as its text. Citation markers [n] become buttons
// when the caller gives a handler for them.

const SAFE_SCHEMES = new Set(['http:', 'https:']);

export function safeUrl(text) {
  try {
    const url = new URL(text);
    return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function el(tag, children = [], attrs = {}) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

// Inline: `code`, **strong**, *em* / _em_, [text](url), [n] citations, plain text.
const INLINE = /(`+)([^`]+?)\1|\*\*([^*]+?)\*\*|__([^_]+?)__|\*([^*\s][^*]*?)\*|(?<!\w)_([^_\s][^_]*?)_(?!\w)|\[([^\]\n]+)\]\(([^)\s]+)\)|\[(\d{1,3})\]/g;

export function inline(text, options = {}) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[2] !== undefined) out.push(el('code', [m[2]]));
    else if (m[3] !== undefined || m[4] !== undefined) out.push(el('strong', inline(m[3] ?? m[4], options)));
    else if (m[5] !== undefined || m[6] !== undefined) out.push(el('em', inline(m[5] ?? m[6], options)));
    else if (m[7] !== undefined) {
      const href = safeUrl(m[8]);
      out.push(href ? el('a', inline(m[7], options), { href, rel: 'noopener noreferrer', target: '_blank' }) : document.createTextNode(m[7]));
    } else if (m[9] !== undefined) {
      const marker = Number(m[9]);
      const node = options.citation ? options.citation(marker) : null;
      out.push(node ?? document.createTextNode(m[0]));
    }
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function table(lines, options) {
  const cells = (line) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const head = el('thead', [el('tr', cells(lines[0]).map((c) => el('th', inline(c, options), { scope: 'col' })))]);
  const body = el('tbody', lines.slice(2).map((l) => el('tr', cells(l).map((c) => el('td', inline(c, options))))));
  return el('table', [head, body]);
}

/** Renders Markdown text into a document fragment of DOM nodes. */
export function render(text, options = {}) {
  const root = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) root.append(el('p', inline(paragraph.join('\n'), options)));
    paragraph = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      flush();
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i++]);
      i++;
      const attrs = fence[2] ? { 'data-lang': fence[2] } : {};
      root.append(el('pre', [el('code', [code.join('\n')], attrs)]));
      continue;
    }
    if (/^\s*$/.test(line)) { flush(); i++; continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      // Headings inside an answer sit below the page's own (h1, h2).
      root.append(el('h' + Math.min(6, heading[1].length + 2), inline(heading[2], options)));
      i++;
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
      flush();
      const rows = [];
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(lines[i++]);
      root.append(table(rows, options));
      continue;
    }
    const bullet = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    if (bullet) {
      flush();
      const ordered = /\d/.test(bullet[1]);
      const list = el(ordered ? 'ol' : 'ul');
      while (i < lines.length) {
        const item = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(lines[i]);
        if (!item || /\d/.test(item[1]) !== ordered) break;
        list.append(el('li', inline(item[2], options)));
        i++;
      }
      root.append(list);
      continue;
    }
    if (/^\s*>\s?/.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && /^\s*>\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ''));
      root.append(el('blockquote', [render(quoted.join('\n'), options)]));
      continue;
    }
    paragraph.push(line);
    i++;
  }
  flush();
  return root;
}
