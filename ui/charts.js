// Hand-written SVG charts for the dashboard. Every bar carries its number, so the chart reads
// at a glance without hovering; each chart also has a <title> and a <desc> for screen readers.
import { s, h } from './dom.js';

const DEFAULT_W = 640;
const PAD = { top: 24, right: 12, bottom: 40, left: 40 };

// Counts: the axis top is even (its middle tick a whole number too) and every tick is a whole
// number; no "2.5 parcels".
function niceMax(max) {
  if (max <= 4) return 4;
  if (max <= 6) return 6;
  const p = 10 ** Math.floor(Math.log10(max));
  const n = max / p;
  const step = n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10;
  return step * p;
}

function frame(W, title, desc, height, children) {
  return s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'xMidYMid meet' },
    s('title', {}, title), s('desc', {}, desc), children);
}

function yAxis(W, max, height, extraBottom = 0) {
  const innerH = height - PAD.top - PAD.bottom - extraBottom;
  const ticks = [0, max / 2, max].filter((v) => Number.isInteger(v));
  return ticks.map((v) => {
    const y = PAD.top + innerH - (v / max) * innerH;
    return s('g', { class: 'tick' },
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis-label' }, String(v)));
  });
}

/** The chart width for a container width: about one SVG unit per CSS pixel, so text stays legible. */
export function chartWidth(containerWidth) {
  return Math.max(300, Math.min(DEFAULT_W, Math.round(containerWidth || DEFAULT_W)));
}

/** Vertical bars: items [{label, value, cls}]. */
export function barChart({ title, items, height: h0 = 240, width: W = DEFAULT_W }) {
  // Narrow charts tilt their category names so that they do not run into each other.
  const tilt = (W - PAD.left - PAD.right) / Math.max(1, items.length) < 64;
  const height = tilt ? h0 + 30 : h0;
  const max = niceMax(Math.max(1, ...items.map((i) => i.value || 0)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom - (tilt ? 30 : 0);
  const slot = innerW / Math.max(1, items.length);
  const bw = Math.min(64, slot * 0.6);
  const bars = items.map((item, i) => {
    const v = item.value || 0;
    const bh = (v / max) * innerH;
    const x = PAD.left + slot * i + (slot - bw) / 2;
    const y = PAD.top + innerH - bh;
    return s('g', { class: 'bar' },
      s('rect', { x, y, width: bw, height: Math.max(bh, v ? 1 : 0), class: ['bar-rect', item.cls], rx: 3 },
        s('title', {}, `${item.label}: ${v}`)),
      s('text', { x: x + bw / 2, y: y - 6, 'text-anchor': 'middle', class: 'value-label' }, String(v)),
      tilt
        ? s('text', { x: x + bw / 2, y: PAD.top + innerH + 14, 'text-anchor': 'end', class: 'axis-label', transform: `rotate(-35 ${x + bw / 2} ${PAD.top + innerH + 14})` }, item.label)
        : s('text', { x: x + bw / 2, y: PAD.top + innerH + 18, 'text-anchor': 'middle', class: 'axis-label' }, item.label));
  });
  const desc = items.map((i) => `${i.label} ${i.value || 0}`).join(', ');
  return frame(W, title, desc, height, [yAxis(W, max, height, tilt ? 30 : 0), bars]);
}

/** Columns over time: points [{label, value}], x labels every `every` points. */
export function columnChart({ title, points, height = 220, every = 5, cls = 'series-a', width: W = DEFAULT_W }) {
  const max = niceMax(Math.max(1, ...points.map((p) => p.value || 0)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, points.length);
  const bw = Math.max(2, slot * 0.7);
  const peak = Math.max(...points.map((p) => p.value || 0));
  const cols = points.map((p, i) => {
    const v = p.value || 0;
    const bh = (v / max) * innerH;
    const x = PAD.left + slot * i + (slot - bw) / 2;
    const y = PAD.top + innerH - bh;
    const showLabel = i % every === 0 || i === points.length - 1;
    return s('g', { class: 'col' },
      s('rect', { x, y, width: bw, height: bh, class: ['bar-rect', cls] }, s('title', {}, `${p.label}: ${v}`)),
      // Numbers on the peak and on the last day, so the chart answers "how many" without hovering.
      (v === peak && v > 0) || i === points.length - 1
        ? s('text', { x: x + bw / 2, y: y - 5, 'text-anchor': 'middle', class: 'value-label' }, String(v)) : null,
      showLabel ? s('text', { x: x + bw / 2, y: PAD.top + innerH + 18, 'text-anchor': 'middle', class: 'axis-label' }, p.label) : null);
  });
  const total = points.reduce((a, p) => a + (p.value || 0), 0);
  return frame(W, title, `${points.length} · total ${total} · peak ${peak}`, height, [yAxis(W, max, height), cols]);
}

/** Horizontal bars with the number at the end: items [{label, value, cls}]. */
export function hbarChart({ title, items, width: W = DEFAULT_W }) {
  const row = 40;
  const height = items.length * row + 16;
  const labelW = Math.min(220, Math.round(W * 0.4));
  const max = Math.max(1, ...items.map((i) => i.value || 0));
  const innerW = W - labelW - 60;
  const rows = items.map((item, i) => {
    const v = item.value || 0;
    const y = 8 + i * row;
    const bw = (v / max) * innerW;
    return s('g', { class: 'hbar' },
      s('text', { x: labelW - 8, y: y + 21, 'text-anchor': 'end', class: 'axis-label strong' }, item.label),
      s('rect', { x: labelW, y: y + 6, width: Math.max(bw, v ? 2 : 0), height: 22, rx: 3, class: ['bar-rect', item.cls] },
        s('title', {}, `${item.label}: ${v}`)),
      s('text', { x: labelW + bw + 8, y: y + 22, class: 'value-label' }, String(v)));
  });
  return frame(W, title, items.map((i) => `${i.label} ${i.value || 0}`).join(', '), height, rows);
}

/** Two series side by side per period: points [{label, values: [a, b]}], series [{name, cls}]. */
export function pairedColumns({ title, points, series, height = 240, every = 5, width: W = DEFAULT_W }) {
  const max = niceMax(Math.max(1, ...points.flatMap((p) => p.values.map((v) => v || 0))));
  const innerW = W - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, points.length);
  const bw = Math.max(1.5, (slot * 0.8) / series.length);
  const groups = points.map((p, i) => s('g', { class: 'pair' },
    p.values.map((v0, k) => {
      const v = v0 || 0;
      const bh = (v / max) * innerH;
      const x = PAD.left + slot * i + slot * 0.1 + bw * k;
      return s('rect', { x, y: PAD.top + innerH - bh, width: bw, height: bh, class: ['bar-rect', series[k].cls] },
        s('title', {}, `${p.label} ${series[k].name}: ${v}`));
    }),
    i % every === 0 || i === points.length - 1
      ? s('text', { x: PAD.left + slot * i + slot / 2, y: PAD.top + innerH + 18, 'text-anchor': 'middle', class: 'axis-label' }, p.label) : null));
  const totals = series.map((se, k) => points.reduce((a, p) => a + (p.values[k] || 0), 0));
  const legend = h('ul', { class: 'legend' }, series.map((se, k) =>
    h('li', {}, h('span', { class: ['swatch', se.cls], 'aria-hidden': 'true' }), `${se.name}: ${totals[k]}`)));
  const svg = frame(W, title, series.map((se, k) => `${se.name} ${totals[k]}`).join(', '), height, [yAxis(W, max, height), groups]);
  return h('div', { class: 'chart-with-legend' }, legend, svg);
}
