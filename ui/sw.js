// The service worker: the app opens without the network. It keeps every file of one build of
// the UI in a cache named after that build, served from there (the page, its styles and every
// screen); the API is never answered from here: /api/ goes to the network only, and what the
// handheld keeps of the warehouse's work lives in IndexedDB (localcopy.js).
//
// The server writes the build and the list of files into this script, so a new deployment is
// a new worker. It installs all files of its build or none (each answer must carry its build
// in X-UI-Build: a deployment happening meanwhile fails the install, which is tried again
// later), waits until the page says it is at a safe moment (app.js), then takes over and
// removes every other build's cache. Never a mix of two builds.
const BUILD = '__UI_BUILD__';
const FILES = "__UI_FILES__";
const PREFIX = 'br-ui-';
const CACHE = `${PREFIX}${BUILD}`;

async function install() {
  const answers = await Promise.all(FILES.map(async (path) => {
    const res = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    const build = res.headers.get('X-UI-Build');
    if (build !== BUILD) throw new Error(`${path} is of build ${build}, not ${BUILD}`);
    return [path, res];
  }));
  const cache = await caches.open(CACHE);
  try {
    await Promise.all(answers.map(([path, res]) => cache.put(path, res)));
  } catch (err) {
    await caches.delete(CACHE);
    throw err;
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(install().catch(async (err) => {
    // Tried again at the next update check; the pages say why in their console.
    for (const c of await self.clients.matchAll({ includeUncontrolled: true })) {
      c.postMessage({ type: 'install-failed', build: BUILD, error: String(err && err.message ? err.message : err) });
    }
    throw err;
  }));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const msg = event.data || {};
  if (msg.type === 'skip-waiting') self.skipWaiting();
  if (msg.type === 'build' && event.ports[0]) event.ports[0].postMessage({ build: BUILD });
});

async function fromCache(request, path) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(path);
  if (hit) return hit;
  // Not one of the build's files (or the cache was cleared): the network, as without a worker.
  return fetch(request);
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The API and the health check: network only, never from a cache.
  if (url.pathname.startsWith('/api/') || url.pathname === '/api' || url.pathname === '/healthz') return;
  if (request.mode === 'navigate') {
    // Every page of the app is index.html (the screens are in the #hash).
    event.respondWith(fromCache(request, '/index.html'));
    return;
  }
  if (FILES.includes(url.pathname)) event.respondWith(fromCache(request, url.pathname));
});
