// Inline SVG charts (no library): horizontal bars for shares, columns for a series. Each has a text table too.
import { h, s } from './dom.js';

/** rows: [{label, value, text}] — text is the formatted value shown beside the bar. */
export function barChart(rows, { title } = {}) {
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  const rowHeight = 26;
  const width = 480;
  const labelWidth = 150;
  return h('figure', { class: 'chart' },
    title ? h('figcaption', null, title) : null,
    s('svg', { viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, width: '100%', role: 'img', 'aria-label': title || '' },
      rows.map((r, i) => s('g', { transform: `translate(0 ${i * rowHeight + 2})` },
        s('text', { x: 0, y: 16, class: 'chart-label' }, truncate(r.label, 22)),
        s('rect', { x: labelWidth, y: 4, height: 16, rx: 3, width: Math.max((r.value / max) * (width - labelWidth - 110), r.value > 0 ? 2 : 0), class: 'chart-bar' }),
        s('text', { x: width - 4, y: 16, class: 'chart-value', 'text-anchor': 'end' }, r.text)))));
}

/** points: [{label, value, text}] in order — a column per point. */
export function columnChart(points, { title } = {}) {
  const max = Math.max(...points.map((p) => p.value), 0) || 1;
  const width = 480;
  const height = 140;
  const gap = 4;
  const w = points.length ? (width - gap * (points.length - 1)) / points.length : width;
  return h('figure', { class: 'chart' },
    title ? h('figcaption', null, title) : null,
    s('svg', { viewBox: `0 0 ${width} ${height + 18}`, width: '100%', role: 'img', 'aria-label': title || '' },
      points.map((p, i) => {
        const ph = Math.max((p.value / max) * height, p.value > 0 ? 1 : 0);
        return s('g', null,
          s('rect', { x: i * (w + gap), y: height - ph, width: w, height: ph, rx: 2, class: 'chart-bar' }, s('title', null, `${p.label}: ${p.text}`)),
          i === 0 || i === points.length - 1 ? s('text', { x: i === 0 ? 0 : width, y: height + 14, class: 'chart-label', 'text-anchor': i === 0 ? 'start' : 'end' }, p.label) : null);
      })));
}

function truncate(text, n) {
  const str = String(text ?? '');
  return str.length > n ? `${str.slice(0, n - 1)}…` : str;
}
