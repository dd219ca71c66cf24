// Charts drawn as inline SVG: energy bars over time, totals per pole, and a night's level steps.
// No library: a few axes and rectangles are all it takes, and they print and scale cleanly.

import { s } from './dom.js';
import { number, isoOffsetMinutes } from './format.js';

const INK = '#1f2937';
const GRID = '#e5e7eb';
const AXIS = '#6b7280';

/** A "nice" upper bound and step for an axis from 0 to `max` with about `count` ticks. */
export function niceScale(max, count = 5) {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((v) => v >= raw);
  return { top: Math.ceil(max / step) * step, step };
}

/** The decimals a tick step needs to be written exactly (0.025 → 3, 0.5 → 1, 20 → 0). */
function decimalsOf(step) {
  for (let d = 0; d < 6; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 6;
}

function yAxis(g, { x0, x1, y, top, step, unit }) {
  const digits = decimalsOf(step);
  for (let v = 0; v <= top + step / 2; v += step) {
    const yy = y(v);
    g.append(s('line', { x1: x0, x2: x1, y1: yy, y2: yy, stroke: GRID, 'stroke-width': 1 }));
    g.append(s('text', { x: x0 - 8, y: yy + 4, 'text-anchor': 'end', class: 'chart-tick' }, number(v, digits)));
  }
  if (unit) g.append(s('text', { x: x0 - 8, y: y(top) - 12, 'text-anchor': 'end', class: 'chart-unit' }, unit));
}

const pad2 = (n) => String(n).padStart(2, '0');

/** Tick marks for a time axis from `from` to `to` (Dates), in the browser's zone. */
function timeTicks(from, to) {
  const span = (to - from) / 3600e3;
  const ticks = [];
  if (span <= 36) {
    const every = span <= 8 ? 1 : span <= 18 ? 2 : 3;
    const t = new Date(from);
    t.setMinutes(0, 0, 0);
    while (t <= to) {
      if (t >= from && t.getHours() % every === 0) ticks.push({ at: new Date(t), label: `${pad2(t.getHours())}:00` });
      t.setHours(t.getHours() + 1);
    }
  } else {
    const days = span / 24;
    const every = days <= 10 ? 1 : days <= 40 ? 5 : 30;
    const t = new Date(from);
    t.setHours(0, 0, 0, 0);
    let i = 0;
    while (t <= to) {
      if (t >= from && i % every === 0) ticks.push({ at: new Date(t), label: `${pad2(t.getMonth() + 1)}-${pad2(t.getDate())}` });
      t.setDate(t.getDate() + 1);
      i++;
    }
  }
  return ticks;
}

/**
 * Energy over time: one bar per bucket. `bars`: [{start: Date, value, title}], each `bucketSeconds`
 * long, within `from`…`to`.
 */
export function timeBarChart({ bars, from, to, bucketSeconds, unit = 'Wh', label, width = 960, height = 260 }) {
  const m = { left: 64, right: 16, top: 28, bottom: 34 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const { top, step } = niceScale(Math.max(0, ...bars.map((b) => b.value)));
  const x = (d) => m.left + ((d - from) / (to - from)) * pw;
  const y = (v) => m.top + ph - (v / top) * ph;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
  svg.append(s('title', null, label));
  const g = s('g');
  svg.append(g);
  yAxis(g, { x0: m.left, x1: width - m.right, y, top, step, unit });
  const bw = Math.max(1, (bucketSeconds * 1000 / (to - from)) * pw);
  const gap = bw > 6 ? Math.min(2, bw * 0.15) : 0;
  for (const b of bars) {
    const bx = x(b.start);
    if (bx + bw < m.left || bx > width - m.right) continue;
    const by = y(b.value);
    g.append(s('rect', {
      x: bx + gap / 2, y: by, width: Math.max(1, bw - gap), height: Math.max(0, m.top + ph - by),
      fill: '#2563eb', class: 'chart-bar',
    }, s('title', null, b.title)));
  }
  g.append(s('line', { x1: m.left, x2: width - m.right, y1: m.top + ph, y2: m.top + ph, stroke: AXIS }));
  for (const t of timeTicks(from, to)) {
    const tx = x(t.at);
    g.append(s('line', { x1: tx, x2: tx, y1: m.top + ph, y2: m.top + ph + 5, stroke: AXIS }));
    g.append(s('text', { x: tx, y: m.top + ph + 20, 'text-anchor': 'middle', class: 'chart-tick' }, t.label));
  }
  if (!bars.length) {
    g.append(s('text', { x: m.left + pw / 2, y: m.top + ph / 2, 'text-anchor': 'middle', class: 'chart-empty' },
      'No telemetry in this period'));
  }
  return svg;
}

/** Totals per category (per pole): [{label, value, title, selected}], clickable. */
export function categoryBarChart({ items, unit = 'Wh', label, onSelect, width = 960, height = 220 }) {
  const m = { left: 64, right: 16, top: 28, bottom: items.length > 16 ? 58 : 34 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const { top, step } = niceScale(Math.max(0, ...items.map((i) => i.value)));
  const y = (v) => m.top + ph - (v / top) * ph;
  const slot = pw / Math.max(1, items.length);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
  svg.append(s('title', null, label));
  const g = s('g');
  svg.append(g);
  yAxis(g, { x0: m.left, x1: width - m.right, y, top, step, unit });
  const bw = Math.min(56, Math.max(1, slot * 0.7));
  items.forEach((item, i) => {
    const bx = m.left + i * slot + (slot - bw) / 2;
    const by = y(item.value);
    const bar = s('rect', {
      x: bx, y: by, width: bw, height: Math.max(0, m.top + ph - by),
      fill: item.selected ? '#f59e0b' : '#64748b', class: ['chart-bar', onSelect ? 'clickable' : null],
      dataset: { pole: item.label },
    }, s('title', null, item.title));
    if (onSelect) bar.addEventListener('click', () => onSelect(item.label));
    g.append(bar);
    const lx = m.left + i * slot + slot / 2;
    const ly = m.top + ph + 16;
    g.append(items.length > 16
      ? s('text', { x: lx, y: ly, 'text-anchor': 'end', transform: `rotate(-50 ${lx} ${ly})`, class: 'chart-tick' }, item.label)
      : s('text', { x: lx, y: ly, 'text-anchor': 'middle', class: 'chart-tick' }, item.label));
  });
  g.append(s('line', { x1: m.left, x2: width - m.right, y1: m.top + ph, y2: m.top + ph, stroke: AXIS }));
  if (!items.some((i) => i.value > 0)) {
    g.append(s('text', { x: m.left + pw / 2, y: m.top + ph / 2, 'text-anchor': 'middle', class: 'chart-empty' },
      'No telemetry in this period'));
  }
  return svg;
}

/**
 * A night's plan as a step chart: the commanded base level (filled) and the lighting class minimum
 * (dashed), from switch-on to switch-off, with the route's local hours on the axis.
 * `steps`: [{at, level, class, minimum}] with ISO times in the route's zone.
 */
export function stepChart({ steps, switchOn, switchOff, width = 560, height = 220 }) {
  const m = { left: 48, right: 26, top: 22, bottom: 34 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const t0 = new Date(switchOn).getTime();
  const t1 = new Date(switchOff).getTime();
  const x = (t) => m.left + ((t - t0) / (t1 - t0)) * pw;
  const y = (v) => m.top + ph - (v / 100) * ph;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart step-chart', role: 'img',
    'aria-label': `Level steps from ${switchOn} to ${switchOff}`,
  });
  const g = s('g');
  svg.append(g);
  yAxis(g, { x0: m.left, x1: width - m.right, y, top: 100, step: 25, unit: '%' });

  const pts = steps.map((st, i) => ({
    from: Math.max(t0, new Date(st.at).getTime()),
    to: i + 1 < steps.length ? new Date(steps[i + 1].at).getTime() : t1,
    level: st.level, minimum: st.minimum, cls: st.class,
  })).filter((p) => p.to > p.from);

  if (pts.length) {
    let area = `M ${x(pts[0].from)} ${y(0)}`;
    let line = '';
    let minLine = '';
    for (const p of pts) {
      area += ` L ${x(p.from)} ${y(p.level)} L ${x(p.to)} ${y(p.level)}`;
      line += `${line ? ' L' : 'M'} ${x(p.from)} ${y(p.level)} L ${x(p.to)} ${y(p.level)}`;
      minLine += `${minLine ? ' L' : 'M'} ${x(p.from)} ${y(p.minimum)} L ${x(p.to)} ${y(p.minimum)}`;
    }
    area += ` L ${x(pts[pts.length - 1].to)} ${y(0)} Z`;
    g.append(s('path', { d: area, fill: '#fde68a', 'fill-opacity': 0.7 }));
    g.append(s('path', { d: minLine, fill: 'none', stroke: '#b91c1c', 'stroke-width': 1.5, 'stroke-dasharray': '5 4' }));
    g.append(s('path', { d: line, fill: 'none', stroke: '#b45309', 'stroke-width': 2.5, class: 'step-line' }));
    for (const p of pts) {
      const w = x(p.to) - x(p.from);
      if (w > 34) {
        g.append(s('text', { x: x(p.from) + w / 2, y: y(p.level) - 6, 'text-anchor': 'middle', class: 'chart-label' },
          `${number(p.level, 1)} %`));
      }
      g.append(s('rect', { x: x(p.from), y: m.top, width: Math.max(1, w), height: ph, fill: 'transparent' },
        s('title', null, `${p.cls}: ${number(p.level, 1)} % (minimum ${number(p.minimum, 1)} %)`)));
    }
  }
  g.append(s('line', { x1: m.left, x2: width - m.right, y1: m.top + ph, y2: m.top + ph, stroke: AXIS }));

  // Whole hours of the route's local time (the ISO strings carry its offset).
  const offset = isoOffsetMinutes(switchOn) * 60e3;
  const span = (t1 - t0) / 3600e3;
  const every = span > 14 ? 2 : 1;
  let t = Math.ceil((t0 + offset) / 3600e3) * 3600e3 - offset;
  for (; t <= t1; t += 3600e3) {
    const hour = new Date(t + offset).getUTCHours();
    if (hour % every) continue;
    g.append(s('line', { x1: x(t), x2: x(t), y1: m.top + ph, y2: m.top + ph + 5, stroke: AXIS }));
    g.append(s('text', { x: x(t), y: m.top + ph + 20, 'text-anchor': 'middle', class: 'chart-tick' }, `${pad2(hour)}:00`));
  }
  return svg;
}

export const chartInk = INK;
