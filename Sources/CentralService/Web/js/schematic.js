// The road as a schematic: the poles along the chainage, each lamp coloured by the level it
// reports, a light cone as bright as the lamp, offline poles greyed and dashed, poles with an
// open alarm marked with a red triangle. Drawn as SVG; redrawn on every change (a route has tens
// of poles, so this is cheap).

import { s } from './dom.js';
import { number } from './format.js';

/** The lamp colour for a level (0…100 %): dark grey when off, dim amber to bright yellow when lit. */
export function levelColour(level) {
  if (level === null || level === undefined) return '#475569';
  if (level <= 0) return '#334155';
  const t = Math.min(1, Math.max(0, level / 100));
  const hue = 32 + 20 * t;
  const sat = 70 + 30 * t;
  const light = 34 + 30 * t;
  return `hsl(${hue.toFixed(0)}, ${sat.toFixed(0)}%, ${light.toFixed(0)}%)`;
}

function chainageStep(length) {
  for (const step of [10, 25, 50, 100, 250, 500, 1000, 2500]) if (length / step <= 10) return step;
  return 5000;
}

/**
 * layout: {poles: [{id, chainage}]}; states: Map pole → {online, level, profileVersion, state, faults};
 * alarms: Map pole → 'new' | 'acknowledged' for poles with an open alarm; selected: a pole id or
 * null; onSelect(pole).
 */
export function schematic({ layout, states, alarms, selected, onSelect, width = 1200 }) {
  const poles = layout.poles;
  const height = 256;
  const m = { left: 40, right: 40 };
  const roadY = 186;
  const lampY = 92;
  const min = Math.min(...poles.map((p) => p.chainage), 0);
  const max = Math.max(...poles.map((p) => p.chainage), min + 1);
  const pw = width - m.left - m.right;
  const x = (c) => m.left + ((c - min) / (max - min)) * pw;
  const spacing = poles.length > 1 ? pw / (poles.length - 1) : pw;
  const dense = spacing < 34;
  const label = `Schematic of ${layout.name || layout.route}: ${poles.length} poles over ${number(max - min, 0)} m`;

  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'schematic', role: 'group', 'aria-label': label });
  svg.append(s('title', null, label));
  svg.append(s('rect', { x: 0, y: 0, width, height, rx: 8, fill: '#0b1626' }));
  // The road (a path beside it), its edge lines.
  svg.append(s('rect', { x: 10, y: roadY - 14, width: width - 20, height: 28, fill: '#1e293b' }));
  svg.append(s('line', { x1: 10, x2: width - 10, y1: roadY, y2: roadY, stroke: '#475569', 'stroke-dasharray': '14 10' }));

  // Light cones first, so that masts and heads are drawn over them.
  const cones = s('g', { 'aria-hidden': 'true' });
  const masts = s('g');
  svg.append(cones, masts);
  const spread = Math.min(60, Math.max(10, spacing * 0.7));
  for (const pole of poles) {
    const st = states.get(pole.id) || {};
    const px = x(pole.chainage);
    const online = st.online === true;
    // A failed lamp gives no light, whatever level it is commanded to.
    const failed = online && (st.faults || []).includes('lamp-failure');
    const lvl = online && !failed && typeof st.level === 'number' ? st.level : 0;
    if (lvl > 0) {
      cones.append(s('path', {
        d: `M ${px - 5} ${lampY + 6} L ${px + 5} ${lampY + 6} L ${px + spread} ${roadY + 14} L ${px - spread} ${roadY + 14} Z`,
        fill: '#fde047', 'fill-opacity': (0.08 + 0.5 * lvl / 100).toFixed(3),
      }));
    }
    const alarm = alarms.get(pole.id);
    const hasAlarm = alarm !== undefined;
    const g = s('g', {
      class: ['pole', online ? 'pole-online' : 'pole-offline', hasAlarm ? 'pole-alarm' : null,
        selected === pole.id ? 'pole-selected' : null],
      tabindex: 0, role: 'button',
      'aria-label': describe(pole, st, alarm),
      'aria-pressed': selected === pole.id ? 'true' : 'false',
      dataset: {
        pole: pole.id, online: online ? 'true' : 'false', level: typeof st.level === 'number' ? st.level : '',
        version: st.profileVersion ?? '', alarm: alarm || 'none',
      },
    });
    g.append(s('title', null, describe(pole, st, alarm)));
    // A generous transparent hit area.
    g.append(s('rect', { x: px - Math.max(10, Math.min(18, spacing / 2)), y: 34, width: Math.max(20, Math.min(36, spacing)), height: roadY + 2 - 34, fill: 'transparent' }));
    if (selected === pole.id) {
      g.append(s('rect', { x: px - 17, y: 34, width: 34, height: roadY + 40 - 34, rx: 6, fill: 'none', stroke: '#38bdf8', 'stroke-width': 2 }));
    }
    g.append(s('line', { x1: px, x2: px, y1: lampY, y2: roadY - 14, stroke: online ? '#94a3b8' : '#475569', 'stroke-width': 3 }));
    g.append(s('circle', {
      cx: px, cy: lampY, r: dense ? 7 : 10, fill: online && !failed ? levelColour(st.level) : '#1e293b',
      stroke: online ? '#e2e8f0' : '#94a3b8', 'stroke-width': online ? 1.5 : 2,
      'stroke-dasharray': online ? undefined : '3 3', class: 'lamp',
    }));
    if (!online || failed) {
      g.append(s('line', { x1: px - 5, y1: lampY - 5, x2: px + 5, y2: lampY + 5, stroke: failed ? '#f87171' : '#94a3b8', 'stroke-width': 2 }));
      if (failed) g.append(s('line', { x1: px - 5, y1: lampY + 5, x2: px + 5, y2: lampY - 5, stroke: '#f87171', 'stroke-width': 2 }));
    }
    if (hasAlarm) {
      const ay = lampY - 44;
      g.append(s('path', { d: `M ${px} ${ay - 10} L ${px + 10} ${ay + 8} L ${px - 10} ${ay + 8} Z`, fill: alarm === 'new' ? '#ef4444' : '#f59e0b', stroke: '#fee2e2', 'stroke-width': 1, class: 'alarm-mark' }));
      g.append(s('text', { x: px, y: ay + 6, 'text-anchor': 'middle', class: 'alarm-bang' }, '!'));
      g.append(s('circle', { cx: px, cy: lampY, r: (dense ? 7 : 10) + 4, fill: 'none', stroke: alarm === 'new' ? '#ef4444' : '#f59e0b', 'stroke-width': 2 }));
    }
    // Labels: the level above the lamp (when there is room), the id under the road.
    if (!dense || poles.length <= 30) {
      g.append(s('text', { x: px, y: lampY - 16, 'text-anchor': 'middle', class: ['sch-level', online ? null : 'sch-offline'] },
        online ? (typeof st.level === 'number' ? `${number(st.level, 0)}%` : '—') : st.online === false ? 'offline' : 'no report'));
    }
    const ly = dense ? roadY + 24 : roadY + 32;
    g.append(dense
      ? s('text', { x: px, y: ly, 'text-anchor': 'end', transform: `rotate(-60 ${px} ${ly})`, class: 'sch-id' }, pole.id)
      : s('text', { x: px, y: ly, 'text-anchor': 'middle', class: 'sch-id' }, pole.id));
    if (!dense && st.profileVersion !== undefined && st.profileVersion !== null) {
      g.append(s('text', { x: px, y: roadY + 4, 'text-anchor': 'middle', class: 'sch-version' }, `v${st.profileVersion}`));
    }
    if (onSelect) {
      g.addEventListener('click', () => onSelect(pole.id));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onSelect(pole.id); }
      });
    }
    masts.append(g);
  }
  // Chainage ticks along the top edge.
  const step = chainageStep(max - min);
  const ticks = s('g', { 'aria-hidden': 'true' });
  for (let c = Math.ceil(min / step) * step; c <= max; c += step) {
    ticks.append(s('line', { x1: x(c), x2: x(c), y1: 8, y2: 13, stroke: '#64748b' }));
    ticks.append(s('text', { x: x(c), y: 25, 'text-anchor': 'middle', class: 'sch-chainage' }, `${number(c, 0)} m`));
  }
  svg.append(ticks);
  return svg;
}

function describe(pole, st, alarm) {
  const parts = [`Pole ${pole.id} at ${number(pole.chainage, 1)} m`];
  if (st.online === undefined) parts.push('no report yet');
  else if (!st.online) parts.push('offline');
  else parts.push(`level ${typeof st.level === 'number' ? number(st.level, 1) + ' %' : 'unknown'}`);
  if (st.online && (st.faults || []).includes('lamp-failure')) parts.push('lamp failed: dark');
  if (st.state) parts.push(st.state);
  if (st.profileVersion !== undefined && st.profileVersion !== null) parts.push(`profile version ${st.profileVersion}`);
  if (alarm === 'new') parts.push('open alarm');
  if (alarm === 'acknowledged') parts.push('open alarm, acknowledged');
  return parts.join(', ');
}

/** The legend under the schematic: level colours, offline, alarm. */
export function legend() {
  const svg = s('svg', { viewBox: '0 0 680 28', class: 'legend', role: 'img', 'aria-label': 'Legend: lamp colour by level; offline; open alarm; acknowledged alarm' });
  let xx = 4;
  svg.append(s('text', { x: xx, y: 18, class: 'legend-text' }, 'Level'));
  xx += 44;
  for (const v of [0, 10, 30, 50, 75, 100]) {
    svg.append(s('circle', { cx: xx + 7, cy: 14, r: 7, fill: levelColour(v), stroke: '#334155' }));
    svg.append(s('text', { x: xx + 18, y: 18, class: 'legend-text' }, `${v}`));
    xx += v === 100 ? 46 : 38;
  }
  svg.append(s('circle', { cx: xx + 7, cy: 14, r: 7, fill: '#e2e8f0', stroke: '#64748b', 'stroke-width': 2, 'stroke-dasharray': '3 3' }));
  svg.append(s('text', { x: xx + 20, y: 18, class: 'legend-text' }, 'offline'));
  xx += 84;
  svg.append(s('path', { d: `M ${xx + 8} 4 L ${xx + 17} 22 L ${xx - 1} 22 Z`, fill: '#ef4444' }));
  svg.append(s('text', { x: xx + 24, y: 18, class: 'legend-text' }, 'open alarm'));
  xx += 104;
  svg.append(s('path', { d: `M ${xx + 8} 4 L ${xx + 17} 22 L ${xx - 1} 22 Z`, fill: '#f59e0b' }));
  svg.append(s('text', { x: xx + 24, y: 18, class: 'legend-text' }, 'acknowledged'));
  return svg;
}
