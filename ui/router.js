// Hash routing: "#/r/RT123/sort?x=1" → {path: "/r/RT123/sort", params: {id}, query: {x}}.
// The hash survives a reload, so a worker comes back to the very screen they were on.

const routes = [];

/** Registers a pattern ("/r/:id/sort") with a loader returning the screen module. */
export function route(pattern, load) {
  const names = [];
  const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (m, name) => {
    names.push(name);
    return '([^/]+)';
  })}$`);
  routes.push({ pattern, re, names, load });
}

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs || ''));
  return { path: path || '/', query, hash: `#${raw}` };
}

export function match(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
      return { ...r, params };
    }
  }
  return null;
}

let byApp = false;

/** True once after a navigation the page made itself (the message said then belongs to the
 *  next screen); false after one the person made (a link, the back button). */
export function takeAppNavigation() {
  const was = byApp;
  byApp = false;
  return was;
}

/** Goes to a hash. replace=true keeps the browser history from filling with scans. */
export function navigate(hash, { replace = false } = {}) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  byApp = true;
  if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}

/** Builds a hash with a query string, leaving out empty values. */
export function hashWith(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}
