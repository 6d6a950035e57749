// What the explorer's pages share: element lookup, the mount's routes relative to the page (any prefix, the host's
// auth), a JSON call that throws KairosDB's error messages, and the status line.
export const $ = (id) => document.getElementById(id);
export const api = (path) => new URL(`../${path}`, location.href);

export async function call(method, path, body) {
  const response = await fetch(api(path), { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await response.text();
  let json;
  try { json = text ? JSON.parse(text) : {}; } catch { json = { errors: [text] }; }
  if (!response.ok) throw Object.assign(new Error((json.errors ?? [`${response.status} ${response.statusText}`]).join('\n')), { status: response.status });
  return json;
}

export function setStatus(text, phase) {
  $('status').textContent = text;
  document.body.dataset.phase = phase;
}
