// The roll-ups page: lists the mount's roll-up tasks with their last execution's status (GET /rollups,
// /rollups/status/{id}), deletes one, and creates one from the explorer's query (passed in the URL as ?query=…).
import { $, call, setStatus } from './api.js';

const query = (() => {
  try {
    return JSON.parse(new URLSearchParams(location.search).get('query') ?? 'null');
  } catch {
    return null;
  }
})();

function failed(error) {
  $('error').textContent = error.status === 404 && error.message.includes('Not Found') ? 'Roll-ups are off on this mount (its rollups option).' : error.message;
  $('error').hidden = false;
  setStatus('Failed.', 'error');
}

const cell = (text) => Object.assign(document.createElement('td'), { textContent: text });

async function list() {
  const tasks = await call('GET', 'rollups');
  const rows = [];
  for (const task of tasks) {
    let status;
    try {
      status = await call('GET', `rollups/status/${encodeURIComponent(task.id)}`);
    } catch (error) {
      if (error.status !== 404) throw error;
    }
    const metrics = status?.statuses ?? [];
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Delete', title: `Delete ${task.id}` });
    remove.addEventListener('click', () => removeTask(task));
    const tr = document.createElement('tr');
    tr.dataset.id = task.id;
    const every = task.execution_interval ? `${task.execution_interval.value} ${String(task.execution_interval.unit).toLowerCase()}` : '';
    tr.append(
      cell(task.name),
      cell((task.rollups ?? []).map((r) => r.save_as).join(', ')),
      cell(every),
      cell(status ? metrics.map((m) => m.last_executed).join(', ') : 'not run yet'),
      cell(status ? String(metrics.reduce((n, m) => n + (m.data_point_count ?? 0), 0)) : ''),
      cell(status?.next_scheduled ?? ''),
      cell(metrics.map((m) => m.error_message).filter(Boolean).join('\n')),
    );
    const actions = document.createElement('td');
    actions.append(remove);
    tr.append(actions);
    rows.push(tr);
  }
  $('tasks').tBodies[0].replaceChildren(...rows);
  setStatus(`${tasks.length} task${tasks.length === 1 ? '' : 's'}`, 'ready');
}

async function removeTask(task) {
  setStatus('Deleting…', 'loading');
  try {
    await call('DELETE', `rollups/${encodeURIComponent(task.id)}`);
    await list();
  } catch (error) {
    failed(error);
  }
}

async function create(event) {
  event.preventDefault();
  $('error').hidden = true;
  setStatus('Creating…', 'loading');
  const task = {
    name: $('name').value.trim(),
    execution_interval: { value: Number($('every').value), unit: $('unit').value },
    rollups: [{ save_as: $('save-as').value.trim(), query }],
  };
  try {
    await call('POST', 'rollups', task);
    await list();
  } catch (error) {
    failed(error);
  }
}

$('create').addEventListener('submit', create);
if (query) {
  $('create').hidden = false;
  $('query-json').textContent = JSON.stringify(query, null, 2);
  const metric = query.metrics?.[0]?.name;
  if (metric) $('save-as').value = `${metric}.rollup`;
} else {
  $('hint').hidden = false;
}
setStatus('Loading…', 'loading');
list().catch(failed);
// Statuses change as the runner executes tasks.
setInterval(() => list().catch(() => {}), 5000);
