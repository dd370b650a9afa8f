// Elements are built with the DOM API and text nodes only (no innerHTML): names and messages from the API are shown
// as text, never parsed as markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** A state as a coloured badge; data-state lets tests and styles find it. */
export function badge(state) {
  const text = state ?? 'Unknown';
  return h('span', { class: `badge badge-${text.toLowerCase()}`, 'data-state': text }, text);
}

/** A bar of used / total (capacity, rebuild progress) with the figures as text. */
export function bar(done, total, label) {
  const percent = total > 0 ? Math.min(100, Math.round((100 * done) / total)) : 0;
  const level = percent >= 90 ? 'high' : percent >= 70 ? 'mid' : 'low';
  const fill = h('div', { class: `bar-fill bar-${level}` });
  fill.style.width = `${percent}%`; // a style property, not a style attribute: the page's CSP allows no inline styles
  return h('div', { class: 'bar', title: `${percent}%`, 'data-percent': percent },
    fill, h('span', { class: 'bar-text' }, label ?? `${percent}%`));
}

export function table(headings, rows, empty = 'none') {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('table', null,
    h('thead', null, h('tr', null, headings.map(t => h('th', null, t)))),
    h('tbody', null, rows));
}

export function when(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Counts of items by key, in the given order first, then any other key. */
export function countBy(items, key, order) {
  const counts = new Map(order.map(k => [k, 0]));
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].filter(([k, n]) => n > 0 || order.includes(k));
}

/** Sizes as typed in a form: a number and a unit, to bytes. Left as typed when not a number, for the API to judge. */
export function toBytes(amount, unit) {
  const n = Number(amount);
  if (amount === '' || !Number.isFinite(n)) return amount;
  return Math.round(n * 1024 ** UNITS.indexOf(unit));
}
