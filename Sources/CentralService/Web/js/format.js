// Numbers and times as the UI shows them: unambiguous (ISO-like dates, 24-hour clock), units always
// written out.

import { h } from './dom.js';

const pad = (n) => String(n).padStart(2, '0');

/** "2026-11-23 18:04" in the browser's time zone, from an ISO string or a Date. */
export function dateTime(value, { seconds = false } = {}) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value ?? '—');
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${base}:${pad(d.getSeconds())}` : base;
}

/** A <time> element showing dateTime(), with the exact instant as its datetime and tooltip. */
export function timeEl(iso, options) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso }, dateTime(iso, options));
}

/** "12 s ago", "5 min ago", "3 h ago", or the date. */
export function ago(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return dateTime(iso);
}

/** The wall-clock "HH:MM" of an ISO string written in the route's own zone (the preview's times). */
export function localClock(iso) {
  if (!iso) return '—';
  const m = /T(\d{2}:\d{2})/.exec(iso);
  return m ? m[1] : iso;
}

/** The UTC offset of an ISO string in minutes ("+01:00" → 60, "Z" → 0). */
export function isoOffsetMinutes(iso) {
  const m = /([+-])(\d{2}):?(\d{2})$/.exec(iso || '');
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const nf = (digits) => new Intl.NumberFormat('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

export function number(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return nf(digits).format(value);
}

/** Watt-hours as Wh or kWh, whichever reads better. */
export function energy(wh) {
  if (wh === null || wh === undefined || Number.isNaN(wh)) return '—';
  if (Math.abs(wh) >= 1000) return `${nf(2).format(wh / 1000)} kWh`;
  return `${nf(1).format(wh)} Wh`;
}

/** A ratio 0…1 as a percentage. */
export function ratio(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${nf(digits).format(value * 100)} %`;
}

export function level(value) {
  if (value === null || value === undefined) return '—';
  return `${nf(1).format(value)} %`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 120) return `${nf(1).format(seconds)} s`;
  if (seconds < 7200) return `${nf(1).format(seconds / 60)} min`;
  return `${nf(1).format(seconds / 3600)} h`;
}

/** Today's date in the browser's zone as YYYY-MM-DD (for <input type=date>). */
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
