// The explorer page: builds a KairosDB query from the form, runs it through the same routes clients use (relative
// to this page, so any mount prefix and the host's auth apply), draws number series with uPlot and lists every
// series in a table. The query lives in the URL (?q=…), so a link or a reload shows the same thing.
import { $, api, call, setStatus } from './api.js';

const RANGES = { '1h': [1, 'hours'], '6h': [6, 'hours'], '1d': [1, 'days'], '7d': [7, 'days'], '30d': [30, 'days'], '1y': [1, 'years'] };
const form = $('query');
let features = [];
let plot;
let labels = [];

/** What the page shows, as kept in the URL. */
let state = readState();

function readState() {
  try {
    const q = new URLSearchParams(location.search).get('q');
    if (q) return { tags: {}, ...JSON.parse(q) };
  } catch {}
  return { metric: '', range: '1d', tags: {}, aggregator: null, groupBy: '' };
}

function saveState() {
  const url = new URL(location.href);
  url.searchParams.set('q', JSON.stringify(state));
  history.replaceState(null, '', url);
}

function timeWindow() {
  if (state.range === 'abs') return { start_absolute: state.start, end_absolute: state.end };
  const [value, unit] = RANGES[state.range] ?? RANGES['1d'];
  return { start_relative: { value, unit } };
}

function buildQuery() {
  const metric = { name: state.metric };
  const tags = Object.fromEntries(Object.entries(state.tags).filter(([, v]) => v.length > 0));
  if (Object.keys(tags).length > 0) metric.tags = tags;
  if (state.aggregator) metric.aggregators = [state.aggregator];
  if (state.groupBy) metric.group_by = [{ name: 'tag', tags: [state.groupBy] }];
  return { ...timeWindow(), metrics: [metric] };
}

// ---- form <-> state ----

const localInput = (ms) => (Number.isFinite(ms) ? new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 19) : '');

function showState() {
  $('metric').value = state.metric;
  $('range').value = state.range;
  form.classList.toggle('absolute', state.range === 'abs');
  $('start').value = localInput(state.start);
  $('end').value = localInput(state.end);
  $('aggregator').value = state.aggregator?.name ?? '';
  renderParams();
}

function readForm() {
  state.metric = $('metric').value.trim();
  state.range = $('range').value;
  if (state.range === 'abs') {
    state.start = new Date($('start').value).getTime();
    state.end = new Date($('end').value).getTime();
  }
  for (const select of $('tags').querySelectorAll('select')) state.tags[select.name] = [...select.selectedOptions].map((o) => o.value);
  state.groupBy = $('group-by').value;
  const name = $('aggregator').value;
  state.aggregator = name ? { name, ...readParams() } : null;
}

// ---- aggregator parameters, from GET /features ----

const aggregatorFeature = (name) => features.find((f) => f.name === name);

function field(property, value, path) {
  const label = document.createElement('label');
  label.title = property.description ?? '';
  let input;
  if (property.type === 'enum') {
    input = document.createElement('select');
    if (!property.defaultValue) input.append(new Option('—', ''));
    for (const option of property.options) input.append(new Option(option.toLowerCase(), option));
    const wanted = String(value ?? property.defaultValue).toLowerCase();
    input.value = property.options.find((o) => o.toLowerCase() === wanted) ?? property.defaultValue;
  } else if (property.type === 'boolean') {
    input = document.createElement('input');
    input.type = 'checkbox';
    input.checked = String(value ?? property.defaultValue) === 'true';
  } else {
    input = document.createElement('input');
    input.type = ['double', 'long', 'int'].includes(property.type) ? 'number' : 'text';
    input.step = 'any';
    input.value = value ?? property.defaultValue ?? '';
  }
  input.dataset.path = path;
  input.dataset.type = property.type;
  input.dataset.label = property.label;
  if (input.type === 'number' && (property.defaultValue ?? '') === '') input.dataset.required = 'true';
  if (property.type === 'boolean') label.append(input, property.label);
  else label.append(property.label, input);
  return label;
}

/** Sampling widths a new aggregator starts from: the smallest giving at most ~200 buckets over the range. */
const SAMPLINGS = [[1, 'seconds', 1e3], [10, 'seconds', 1e4], [1, 'minutes', 6e4], [5, 'minutes', 3e5], [15, 'minutes', 9e5], [1, 'hours', 36e5], [6, 'hours', 216e5], [1, 'days', 864e5], [7, 'days', 6048e5], [30, 'days', 2592e6]];
const UNIT_MS = { seconds: 1e3, minutes: 6e4, hours: 36e5, days: 864e5, weeks: 6048e5, months: 2592e6, years: 31536e6 };

function rangeMs() {
  if ($('range').value === 'abs') return new Date($('end').value).getTime() - new Date($('start').value).getTime();
  const [value, unit] = RANGES[$('range').value] ?? RANGES['1d'];
  return value * UNIT_MS[unit];
}

function defaultSampling() {
  const wanted = (rangeMs() || UNIT_MS.days) / 200;
  const [value, unit] = SAMPLINGS.find(([, , ms]) => ms >= wanted) ?? SAMPLINGS[SAMPLINGS.length - 1];
  return { value, unit: unit.toUpperCase() };
}

function renderParams() {
  const box = $('params');
  box.replaceChildren();
  const feature = aggregatorFeature($('aggregator').value);
  if (!feature) return;
  // A newly picked aggregator samples the range in ~200 buckets (not the 1 ms default, which looks like raw points).
  const current = state.aggregator?.name === feature.name ? state.aggregator : { sampling: defaultSampling() };
  for (const property of feature.properties) {
    if (property.type === 'Object' && property.name === 'sampling') {
      for (const sub of property.properties) box.append(field(sub, current.sampling?.[sub.name], `sampling.${sub.name}`));
    } else if (property.type !== 'Object' && property.type !== 'array') {
      box.append(field(property, current[property.name], property.name));
    }
  }
}

/** The labels of number parameters left empty that have no default (divisor, factor, percentile, …): needed. */
function missingParams() {
  return [...$('params').querySelectorAll('input[type=number][data-required]')].filter((input) => input.value === '').map((input) => input.dataset.label);
}

function readParams() {
  const params = {};
  for (const input of $('params').querySelectorAll('[data-path]')) {
    if (input.type !== 'checkbox' && input.value === '') continue;
    const value = input.type === 'checkbox' ? input.checked : input.type === 'number' ? Number(input.value) : input.value;
    const [first, second] = input.dataset.path.split('.');
    if (second) (params[first] ??= {})[second] = value;
    else params[first] = value;
  }
  return params;
}

// ---- metric names and tags ----

let namesTimer;
function suggestNames() {
  clearTimeout(namesTimer);
  namesTimer = setTimeout(async () => {
    try {
      const { results } = await call('GET', `metricnames?prefix=${encodeURIComponent($('metric').value)}`);
      $('metric-names').replaceChildren(...results.slice(0, 200).map((name) => new Option(name, name)));
    } catch {}
  }, 150);
}

async function loadTags() {
  const box = $('tags');
  const legend = box.querySelector('legend');
  if (!state.metric) return;
  const answer = await call('POST', 'datapoints/query/tags', { ...timeWindow(), metrics: [{ name: state.metric }] });
  const tags = answer.queries[0]?.results[0]?.tags ?? {};
  const names = Object.keys(tags).sort();
  box.replaceChildren(legend, ...(names.length === 0 ? [Object.assign(document.createElement('p'), { className: 'hint', textContent: 'No tags in this time range.' })] : []));
  for (const name of names) {
    const label = document.createElement('label');
    const select = document.createElement('select');
    select.multiple = true;
    select.name = name;
    select.size = Math.min(4, tags[name].length);
    for (const value of tags[name].slice(0, 500)) select.append(new Option(value, value, false, (state.tags[name] ?? []).includes(value)));
    label.append(name, select);
    box.append(label);
  }
  const groupBy = $('group-by');
  groupBy.replaceChildren(new Option('none', ''), ...names.map((n) => new Option(n, n)));
  groupBy.value = names.includes(state.groupBy) ? state.groupBy : '';
}

// ---- running and drawing ----

async function run() {
  readForm();
  saveState();
  const query = buildQuery();
  $('json').textContent = JSON.stringify(query, null, 2);
  $('curl').textContent = `curl -s -X POST '${api('datapoints/query')}' -H 'Content-Type: application/json' -d '${JSON.stringify(query).replaceAll("'", "'\\''")}'`;
  $('rollup-link').href = `rollups.html?query=${encodeURIComponent(JSON.stringify(query))}`;
  $('error').hidden = true;
  if (!state.metric) return setStatus('Pick a metric.', 'idle');
  const missing = missingParams();
  if (missing.length > 0) return failed(`${missing.join(', ')}: enter a value (the ${state.aggregator?.name} aggregator needs it).`);
  setStatus('Running…', 'loading');
  try {
    await loadTags();
    const answer = await call('POST', 'datapoints/query', query);
    draw(answer.queries[0]?.results ?? []);
    const read = answer.queries[0]?.sample_size ?? 0;
    setStatus(`${read} point${read === 1 ? '' : 's'} read`, 'ready');
  } catch (error) {
    failed(error.message);
  }
}

/** Shows why the query failed, and no longer the previous answer (it would read as this one's). */
function failed(message) {
  draw([]);
  $('error').textContent = message;
  $('error').hidden = false;
  setStatus('The query failed.', 'error');
}

function labelOf(result) {
  const group = result.group_by?.find((g) => g.name === 'tag')?.group;
  const tags = group && Object.keys(group).length > 0 ? group : Object.fromEntries(Object.entries(result.tags ?? {}).map(([k, v]) => [k, v.join('|')]));
  const text = Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(', ');
  return text || result.name;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function draw(results) {
  const numeric = results.filter((r) => (r.group_by?.find((g) => g.name === 'type')?.type ?? 'number') === 'number' && r.values.length > 0);
  const rows = results.flatMap((r) => r.values.slice(0, 2000).map(([t, v]) => [labelOf(r), t, v]));
  $('table').tBodies[0].replaceChildren(...rows.map(([label, t, v]) => {
    const tr = document.createElement('tr');
    for (const text of [label, new Date(t).toISOString(), typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
    return tr;
  }));
  plot?.destroy();
  plot = undefined;
  labels = numeric.map(labelOf);
  const listed = results.filter((r) => !numeric.includes(r) && r.values.length > 0);
  const types = [...new Set(listed.map((r) => r.group_by?.find((g) => g.name === 'type')?.type ?? 'text'))];
  $('note').textContent = listed.length === 0 ? '' : `${listed.length} series of type ${types.join(', ')} ${listed.length === 1 ? 'is' : 'are'} listed in the table below, not drawn (the chart draws numbers).`;
  $('note').hidden = listed.length === 0;
  if (numeric.length === 0) return;
  const xs = [...new Set(numeric.flatMap((r) => r.values.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = numeric.map((r) => {
    const column = new Array(xs.length).fill(null);
    for (const [t, v] of r.values) column[index.get(t)] = v;
    return column;
  });
  const chart = $('chart');
  plot = new uPlot({
    width: Math.max(400, chart.clientWidth || 900),
    height: 320,
    ms: 1,
    series: [{}, ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: xs.length < 200 } }))],
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: { setSelect: [zoom] },
  }, [xs, ...columns], chart);
}

/** A range dragged on the chart becomes the query's absolute window, and the query runs again. */
function zoom(u) {
  if (u.select.width < 2) return;
  const start = Math.floor(u.posToVal(u.select.left, 'x'));
  const end = Math.ceil(u.posToVal(u.select.left + u.select.width, 'x'));
  $('range').value = 'abs';
  $('start').value = localInput(start);
  $('end').value = localInput(end);
  form.classList.add('absolute');
  u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
  run();
}

/** For end-to-end tests and scripts: what the chart holds, read from its data rather than its pixels. */
window.explorer = {
  data: () => (plot ? plot.data.map((column) => [...column]) : []),
  labels: () => [...labels],
};

// ---- wiring ----

$('metric').addEventListener('input', suggestNames);
$('metric').addEventListener('change', () => { readForm(); loadTags().catch(() => {}); });
$('range').addEventListener('change', () => form.classList.toggle('absolute', $('range').value === 'abs'));
$('aggregator').addEventListener('change', renderParams);
form.addEventListener('submit', (event) => { event.preventDefault(); run(); });

(async () => {
  setStatus('Loading…', 'loading');
  try {
    features = await call('GET', 'features/aggregators');
    $('aggregator').append(...features.map((f) => Object.assign(new Option(f.name, f.name), { title: f.description })));
  } catch (error) {
    $('error').textContent = error.message;
    $('error').hidden = false;
  }
  showState();
  if (state.metric) {
    await loadTags().catch(() => {});
    await run();
  } else {
    setStatus('Pick a metric.', 'idle');
  }
})();
