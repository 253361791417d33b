// The console's only way to the server: JSON over fetch with the session cookie, the antiforgery token on unsafe
// methods and the chosen workspace. No secret is ever kept in the page's storage.

let csrfToken = null;
let workspaceHeader = null;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code;
  }
}

export function configure({ csrf, workspace, unauthorized } = {}) {
  if (csrf !== undefined) csrfToken = csrf;
  if (workspace !== undefined) workspaceHeader = workspace;
  if (unauthorized) onUnauthorized = unauthorized;
}

function headersFor(method, extra) {
  const headers = { Accept: 'application/json', ...extra };
  if (!['GET', 'HEAD'].includes(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (workspaceHeader) headers['X-Mulan-Workspace'] = workspaceHeader;
  return headers;
}

/** A URL for path with the query's non-empty values. */
export function url(path, query) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

export async function api(method, path, { body, query, quiet401 = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: headersFor(method) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, query), init);
  const type = response.headers.get('content-type') || '';
  const data = response.status === 204 ? null : type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    if (response.status === 401 && !quiet401) onUnauthorized();
    throw new ApiError(response.status, typeof data === 'object' ? data : { detail: data });
  }
  return data;
}

export const get = (path, query, options) => api('GET', path, { query, ...options });
export const post = (path, body, query) => api('POST', path, { body: body ?? {}, query });
export const patch = (path, body, query) => api('PATCH', path, { body, query });
export const put = (path, body, query) => api('PUT', path, { body, query });
export const del = (path, query) => api('DELETE', path, { query });

/** Multipart upload with progress (fetch has no upload progress; XMLHttpRequest does). */
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(headersFor('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = { detail: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(data);
      } else {
        reject(new ApiError(xhr.status, data));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, { detail: 'network error' })));
    xhr.send(formData);
  });
}
