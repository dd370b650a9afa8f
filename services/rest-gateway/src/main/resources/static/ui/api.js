// The public v0 REST API of the gateway that served this page, called with the signed-in bearer token.
// Nothing else is used: whatever the dashboard shows, a script or the kubectl plugin can read the same way.

const TOKEN_KEY = 'javastor.dashboard.token';
// Relative to /ui/: the API is at /v0 of the same origin (also behind a path prefix).
const BASE = new URL('../v0', document.baseURI).pathname;

/** An error answer of the API: its status and its own {kind, message, details}, shown to the user as they are. */
export class ApiError extends Error {
  constructor(status, kind, message, details) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.details = details;
  }

  toString() {
    return `${this.kind}: ${this.message}`;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: value => sessionStorage.setItem(TOKEN_KEY, value.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let reply;
  try {
    reply = await fetch(BASE + path, {
      method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'Unreachable', `the gateway did not answer (${e.message})`, '');
  }
  const text = await reply.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the text itself
  }
  if (!reply.ok) {
    throw new ApiError(reply.status, json?.kind ?? `HTTP ${reply.status}`, json?.message ?? (text || reply.statusText),
      json?.details ?? '');
  }
  return json;
}

export const get = path => call('GET', path);
export const put = (path, body) => call('PUT', path, body);
export const del = path => call('DELETE', path);
export const seg = encodeURIComponent;

/** Every volume, page by page (the API pages with starting_token / next_token). */
export async function allVolumes() {
  const volumes = [];
  let next = 0;
  do {
    const page = await get(`/volumes?max_entries=200&starting_token=${next}`);
    volumes.push(...page.entries);
    next = page.next_token;
  } while (next !== undefined && next !== null);
  return volumes;
}
