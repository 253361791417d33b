// The only way the console makes DOM: elements by createElement and text by Text nodes. A string is never parsed
// as markup, so a document title or a model's answer that contains HTML is shown as the characters it is.

const SVG = 'http://www.w3.org/2000/svg';
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple', 'required', 'readOnly', 'open']);

/** h('a', {href: '/keys', onClick}, 'Keys') — attributes, event handlers (functions only) and children. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements (charts, gauges). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) {
      // Handlers are functions; an "on…" attribute from a string would be script, so it is never set.
      if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (PROPS.has(k)) {
      el[k] = v;
    } else if (k === 'href' || k === 'src' || k === 'action') {
      el.setAttribute(k, safeUrl(String(v)));
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, ...children);
  return el;
}

/** Appends children: nodes as they are, anything else as text. */
export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Empties an element and fills it again. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

/** Links from data (a citation's source, an invitation URL) may only be http(s) or relative: never javascript: or data:. */
export function safeUrl(u) {
  try {
    const url = new URL(u, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'blob:' ? u : '#';
  } catch {
    return '#';
  }
}

let counter = 0;
/** A unique id, to tie a label to its input. */
export function uid(prefix = 'f') {
  counter += 1;
  return `${prefix}-${counter}`;
}
