// DOM building without HTML parsing: every value becomes a text node or an attribute set through the DOM API.
// Nothing in the UI assigns innerHTML/outerHTML or uses insertAdjacentHTML with data.

/** Attributes h() accepts (others are ignored, so no event-handler attribute can be set by mistake). */
const ALLOWED_ATTRIBUTES = new Set([
  'id',
  'class',
  'title',
  'type',
  'name',
  'value',
  'placeholder',
  'for',
  'role',
  'colspan',
  'autocomplete',
  'min',
  'max',
  'step',
  'size',
  'maxlength',
  'aria-label',
  'aria-live',
  'required',
  'open',
]);

/**
 * Creates an element. `props`: allowed attributes, `href` (same-origin paths only), `text`, `dataset` (object),
 * `on` ({ event: handler }), `hidden`, `disabled`, `checked`. Children: strings (as text), nodes, arrays, nullish.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key === 'href') {
      const href = safeHref(value);
      if (href !== null) el.setAttribute('href', href);
    } else if (key === 'dataset') {
      for (const [name, v] of Object.entries(value))
        if (v !== undefined && v !== null) el.dataset[name] = String(v);
    } else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'hidden' || key === 'disabled' || key === 'checked' || key === 'selected') {
      el[key] = Boolean(value);
    } else if (ALLOWED_ATTRIBUTES.has(key)) {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (strings as text nodes). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Only same-origin absolute paths ("/ui/…", "/api/…"); anything else (javascript:, //host, data:) is dropped. */
export function safeHref(value) {
  const href = String(value);
  return href.startsWith('/') && !href.startsWith('//') && !href.startsWith('/\\') ? href : null;
}

/** A path segment for a URL built from data. */
export function seg(value) {
  return encodeURIComponent(String(value));
}

/** Pretty JSON in a <pre> (as text). */
export function jsonPre(value, className = 'json') {
  let text;
  try {
    text = JSON.stringify(value, null, 2);
  } catch {
    text = String(value);
  }
  return h('pre', { class: className, text: text ?? 'null' });
}
