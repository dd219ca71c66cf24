// Building DOM and SVG without innerHTML: text from the server is always set as text.
//
// The Content-Security-Policy forbids inline styles, so nothing here sets `style`; looks come from
// classes (style.css) and, in SVG, from presentation attributes such as fill and opacity.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Properties set as properties (not attributes), so that they work on live form elements.
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'required',
  'multiple', 'indeterminate', 'spellcheck', 'tabIndex']);

function apply(el, attrs, isSvg) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false && !PROPS.has(key)) continue;
    if (key === 'class') {
      const names = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      if (names) el.setAttribute('class', names);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) el.dataset[k] = String(v);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (!isSvg && PROPS.has(key)) {
      el[key] = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h('button', {class: 'btn', onclick}, 'Save'). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs, false);
  append(el, children);
  return el;
}

/** An SVG element: s('rect', {x: 0, y: 0, width: 10, height: 10, fill: '#000'}). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs, true);
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
/** A unique id for label/control pairs. */
export const uid = (prefix = 'f') => `${prefix}-${++idCounter}`;

/** A labelled form field: returns {field, input}. */
export function field(label, input, hint) {
  if (!input.id) input.id = uid('in');
  const hintEl = hint ? h('span', { class: 'hint', id: uid('hint') }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

/** A small status pill: tone is ok | warn | bad | info | muted. */
export const pill = (text, tone = 'muted', attrs = {}) =>
  h('span', { ...attrs, class: ['pill', `pill-${tone}`, attrs.class] }, text);

/** An error box for an ApiError (or any Error), with the server's details listed. */
export function errorBox(error, title) {
  const details = (error && error.details) || [];
  return h('div', { class: 'alert alert-bad', role: 'alert' },
    h('strong', null, title || 'The request was refused'),
    h('p', null, error ? sentence(error.message) : 'Unknown error', error && error.code ? h('code', { class: 'err-code' }, error.code) : null),
    details.length ? h('ul', { class: 'detail-list' }, details.map((d) =>
      h('li', null, d.line ? h('span', { class: 'detail-line' }, `line ${d.line}`) : null,
        d.field ? h('code', null, d.field) : null, ' ', d.message))) : null);
}

/** The server's messages start in lower case ("the profile does not validate"); a UI sentence does not. */
export const sentence = (text) => (text ? String(text).charAt(0).toUpperCase() + String(text).slice(1) : '');

/** Shows a short message in the corner (announced to screen readers). */
export function toast(message, tone = 'ok') {
  const host = document.getElementById('toasts');
  if (!host) return;
  const el = h('div', { class: ['toast', `toast-${tone}`], title: 'Select to close', onclick: () => el.remove() }, message);
  host.append(el);
  setTimeout(() => el.remove(), tone === 'bad' ? 9000 : 4000);
}

/** Removes every message still shown (a new user must not see the last one's). */
export function clearToasts() {
  const host = document.getElementById('toasts');
  if (host) host.replaceChildren();
}

/** A table: columns [{label, class?}], rows of cells (nodes or text). */
export function table(caption, columns, rows, attrs = {}) {
  return h('table', { ...attrs, class: ['data', attrs.class] },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
    h('tbody', null, rows));
}

/** Runs `fn` at most once per `ms`, after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
