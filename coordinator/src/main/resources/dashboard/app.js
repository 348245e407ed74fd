// Sluice dashboard: polls the coordinator's JSON API and renders it. No framework, no build step.
// Every value from the API is written with textContent, never as HTML: task errors are user data.
'use strict';

(() => {
  const TOKEN_KEY = 'sluice.apiToken';
  const FAST_MS = 1000;
  const SLOW_MS = 2500;
  const STALE_MS = 15000;
  const DEAD_MS = 60000;
  const REQUEUABLE = new Set(['QUEUED', 'RUNNING', 'FAILED']);

  const state = { selectedJob: null, filter: '', lastOk: 0, failing: null, graphKey: null };

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'className') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  const td = (text, className, title) => el('td', { className, text, title });
  const badge = (status) => el('span', { className: 'badge ' + status, text: status });
  const shortId = (id) => (id ? id.slice(0, 8) : '');
  const pct = (fraction) => Math.floor((fraction || 0) * 100) + '%';

  function age(ms) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h';
    return Math.floor(s / 86400) + ' d';
  }
  const since = (iso) => (iso ? age(Date.now() - Date.parse(iso)) : '–');

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  // A link such as /#token=... (what `./sluice dev` prints) hands the page its token: it is kept
  // for this tab only and taken out of the address bar and history at once. A fragment never
  // reaches the server, so the token is in no access log.
  function tokenFromFragment() {
    const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (!match) return;
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }

  async function api(path, options) {
    const headers = { Accept: 'application/json' };
    if (token()) headers.Authorization = 'Bearer ' + token();
    const response = await fetch(path, Object.assign({ cache: 'no-store' }, options, { headers }));
    const text = await response.text();
    let body = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = { error: text };
      }
    }
    if (!response.ok) {
      const error = new Error((body && body.error) || response.status + ' ' + response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // ---- connection and notices ----

  function connected() {
    state.lastOk = Date.now();
    state.failing = null;
    const conn = $('conn');
    conn.dataset.state = 'live';
    $('conn-text').textContent = 'live · updated ' + new Date().toLocaleTimeString();
    if ($('notice').dataset.kind !== 'action') hideNotice();
  }

  function failed(error) {
    const conn = $('conn');
    if (error.status === 401) {
      conn.dataset.state = 'auth';
      $('conn-text').textContent = 'token needed';
      askForToken((token() ? 'The token was refused: ' + error.message + '. ' : '')
        + 'The dashboard shows job data only with a token: enter an admin token '
        + '(SLUICE_ADMIN_TOKENS) above to see every tenant, or an API token to see its own jobs.',
      'auth');
      return;
    }
    conn.dataset.state = 'error';
    $('conn-text').textContent = 'cannot reach the coordinator: ' + error.message;
  }

  function showNotice(text, kind) {
    const notice = $('notice');
    notice.textContent = text;
    notice.dataset.kind = kind || '';
    notice.hidden = false;
  }

  function hideNotice() {
    $('notice').hidden = true;
    $('notice').dataset.kind = '';
    $('token-form').classList.remove('attention');
  }

  function askForToken(text, kind) {
    showNotice(text, kind);
    $('token-form').classList.add('attention');
    $('token').focus();
  }

  let toastTimer = null;
  function toast(text, kind) {
    const box = $('toast');
    box.textContent = text;
    box.className = 'toast ' + (kind || '');
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  // ---- jobs ----

  function progressCell(job) {
    const fill = el('div', { className: 'fill ' + job.status });
    fill.style.width = Math.round((job.progress || 0) * 100) + '%';
    return el('td', { className: 'wide' },
      el('div', { className: 'progress', dataset: { progress: String(job.progress) } },
        el('div', { className: 'bar' }, fill),
        el('span', { className: 'progress-text', text: pct(job.progress) })));
  }

  function tasksText(job) {
    const done = job.tasksSucceeded + job.tasksFailed;
    return done + ' / ' + job.taskCount + (job.tasksFailed ? ' · ' + job.tasksFailed + ' failed' : '');
  }

  async function refreshJobs() {
    const query = '/api/v1/jobs?limit=25' + (state.filter ? '&status=' + state.filter : '');
    const page = await api(query);
    const rows = page.items.map((job) => {
      const row = el('tr', {
        dataset: { jobId: job.id, status: job.status },
        className: job.id === state.selectedJob ? 'selected' : null,
        onclick: () => selectJob(job.id),
      },
      td(shortId(job.id), 'mono', job.id),
      td(job.type),
      td(job.queue),
      el('td', { className: 'status' }, badge(job.status)),
      progressCell(job),
      td(tasksText(job), 'num tasks-count'),
      td(since(job.updatedAt), 'num', job.updatedAt));
      return row;
    });
    $('jobs').tBodies[0].replaceChildren(...rows);
    $('jobs-empty').hidden = rows.length > 0;
    if (!state.selectedJob && page.items.length) {
      const live = page.items.find((j) => j.status === 'RUNNING') || page.items[0];
      selectJob(live.id, true);
    }
  }

  function selectJob(id, quiet) {
    state.selectedJob = id;
    for (const row of $('jobs').tBodies[0].rows) {
      row.classList.toggle('selected', row.dataset.jobId === id);
    }
    if (!quiet) refreshTasks().then(connected, failed);
  }

  // ---- a job's tasks ----

  function detail(job) {
    const box = $('job-detail');
    const pair = (k, v) => [el('span', { className: 'k', text: k }), el('span', { text: v })];
    box.replaceChildren(
      ...pair('status', job.status), ...pair('progress', pct(job.progress)),
      ...pair('type', job.type), ...pair('version', String(job.version)),
      ...pair('created', since(job.createdAt) + ' ago'), ...pair('max attempts', String(job.maxAttempts)),
      ...pair('on task failure', job.onTaskFailure), ...pair('tasks', tasksText(job)),
      ...(job.concurrencyKey
        ? pair('concurrency key', job.concurrencyKey + ' (limit ' + job.concurrencyLimit + ')')
        : []));
    if (job.error) box.append(el('span', { className: 'err', text: job.error }));
    box.hidden = false;
  }

  // A pipeline's stages as a graph (graph.js); drawn again only when a stage changed, so the page
  // does not flicker once a second. A one-stage job draws nothing: its stage is the job itself.
  function graph(job) {
    const box = $('job-graph');
    const key = job.id + ' ' + JSON.stringify(job.stages || null);
    if (key === state.graphKey) return;
    state.graphKey = key;
    const drawn = window.SluiceGraph.draw(job.stages);
    box.replaceChildren(...(drawn ? [drawn] : []));
    box.hidden = !drawn;
  }

  async function refreshTasks() {
    const id = state.selectedJob;
    if (!id) return;
    const [job, page] = await Promise.all([
      api('/api/v1/jobs/' + id),
      api('/api/v1/jobs/' + id + '/tasks?limit=200'),
    ]);
    if (id !== state.selectedJob) return;
    $('tasks-job').textContent = job.type + ' · ' + id;
    detail(job);
    graph(job);
    // A pipeline's tasks are numbered within their stage, so the stage is named beside the seq.
    const pipeline = Array.isArray(job.stages) && job.stages.length > 1;
    const rows = page.items.map((task) => el('tr', { dataset: { seq: String(task.seq), status: task.status } },
      td(pipeline && task.stage ? task.stage + ' · ' + task.seq : String(task.seq), 'num'),
      el('td', { className: 'status' }, badge(task.status)),
      td(String(task.attempt), 'num'),
      td(task.workerId || '–', 'mono'),
      td(pct(task.progress) + (task.phase ? ' · ' + task.phase : ''), 'num', task.message || null),
      td(task.error || '', 'error', task.error),
      el('td', {}, task.status === 'FAILED' ? requeueButton(id, task.seq, job.status) : null)));
    $('tasks').tBodies[0].replaceChildren(...rows);
  }

  // ---- queues, workers, dead letters ----

  async function refreshQueues() {
    const body = await api('/api/v1/queues');
    const sum = (f) => body.items.reduce((n, q) => n + (q[f] || 0), 0);
    $('queues').tBodies[0].replaceChildren(...body.items.map((q) => el('tr', { dataset: { queue: q.name } },
      td(q.name, 'mono'),
      td(q.paused ? 'paused' : 'running', q.paused ? 'state paused' : 'state',
        q.paused ? 'paused at ' + q.pausedAt + (q.pausedBy ? ' by ' + q.pausedBy : '') : 'workers start its tasks'),
      td(q.rateLimit ? q.rateLimit.spec : '–', 'num'),
      td(q.waiting === null ? '?' : String(q.waiting), 'num'),
      td(q.pending === null ? '?' : String(q.pending), 'num'),
      td(q.oldestAgeMs ? age(q.oldestAgeMs) : '–', 'num'),
      td(String(q.activeJobs), 'num'),
      td(String(q.openTasks), 'num'),
      td(String(q.finishedLastMinute), 'num', q.perSecond.toFixed(1) + ' tasks/s'),
      el('td', {}, queueButton(q.name, q.paused)))));
    $('queues-note').textContent = body.redis === 'UP'
      ? 'Redis ready streams · throughput over the last ' + body.windowSeconds + ' s'
      : 'Redis unreachable: depths unknown';
    $('stat-active').textContent = sum('activeJobs');
    $('stat-waiting').textContent = sum('waiting');
    $('stat-inflight').textContent = sum('pending');
    $('stat-rate').textContent = sum('finishedLastMinute');
  }

  // Pause and resume need an admin token; the server refuses others with 403.
  function queueButton(name, paused) {
    return el('button', {
      type: 'button',
      className: 'queue-toggle',
      text: paused ? 'Resume' : 'Pause',
      title: paused ? 'Let workers start tasks of ' + name + ' again' : 'Start no new task of ' + name + '; running ones finish',
      onclick: (event) => toggleQueue(name, paused, event.currentTarget),
    });
  }

  async function toggleQueue(name, paused, button) {
    if (!token()) {
      askForToken('Pausing or resuming a queue needs an admin token: enter it above, then click again.', 'action');
      return;
    }
    button.disabled = true;
    const verb = paused ? 'resume' : 'pause';
    try {
      await api('/api/v1/queues/' + encodeURIComponent(name) + '/' + verb, { method: 'POST' });
      toast('Queue ' + name + (paused ? ' resumed' : ' paused: no new task starts, running ones finish'));
      await refreshQueues();
    } catch (error) {
      button.disabled = false;
      toast('Could not ' + verb + ' ' + name + ': ' + error.message, 'error');
    }
  }

  async function refreshWorkers() {
    const body = await api('/api/v1/workers');
    let up = 0;
    const rows = body.items.map((n) => {
      const health = n.heartbeatAgeMs > DEAD_MS ? 'dead' : n.heartbeatAgeMs > STALE_MS ? 'stale' : 'ok';
      if (n.kind === 'worker' && n.status === 'UP' && health === 'ok') up++;
      return el('tr', { dataset: { node: n.id } },
        td(n.id, 'mono'),
        td(n.kind),
        el('td', {}, badge(n.status)),
        el('td', {}, el('span', { className: 'beat ' + health, text: age(n.heartbeatAgeMs) + ' ago', title: n.heartbeatAt })),
        td(String(n.runningTasks), 'num'),
        td(since(n.startedAt), 'num', n.startedAt));
    });
    $('workers').tBodies[0].replaceChildren(...rows);
    $('stat-workers').textContent = up;
  }

  async function refreshSchedules() {
    const body = await api('/api/v1/schedules?limit=200');
    const rows = body.items.map((s) => el('tr', { dataset: { schedule: s.tenant + '/' + s.name } },
      td(s.name, 'mono'),
      td(s.tenant),
      td(s.cron ? s.cron + ' (' + s.timezone + ')' : 'every ' + s.every, 'mono'),
      td(s.overlap),
      s.paused ? el('td', {}, badge('PAUSED')) : td(s.nextFireAt || '–', '', s.nextFireAt),
      td(s.lastFireAt || '–'),
      td(s.lastJobId || '–', 'mono'),
      td(String(s.fires), 'num'),
      td(String(s.skipped), 'num')));
    $('schedules').tBodies[0].replaceChildren(...rows);
    $('schedules-empty').hidden = rows.length > 0;
  }

  // Callback deliveries that gave up (FAILED) or are being retried (PENDING after a failed attempt).
  async function refreshWebhooks() {
    const [failed, pending] = await Promise.all([
      api('/api/v1/webhooks?status=FAILED&limit=50'),
      api('/api/v1/webhooks?status=PENDING&limit=50')]);
    const items = failed.items.concat(pending.items.filter((w) => w.attempts > 0 && (w.lastError || w.lastStatusCode)));
    const rows = items.map((w) => el('tr', { dataset: { webhook: w.id, webhookJob: w.jobId } },
      el('td', {}, el('a', { href: '#', className: 'mono', text: shortId(w.jobId), title: w.jobId,
        onclick: (e) => { e.preventDefault(); selectJob(w.jobId); } })),
      td(w.event),
      td(w.url, 'mono wide', w.url),
      el('td', {}, badge(w.status)),
      td(String(w.attempts), 'num'),
      td(w.lastStatusCode ? 'HTTP ' + w.lastStatusCode : (w.lastError || '–'), 'error wide', w.lastError),
      td(w.status === 'PENDING' ? 'next ' + (w.nextAttemptAt || '–') : since(w.finishedAt), 'num',
        w.status === 'PENDING' ? w.nextAttemptAt : w.finishedAt)));
    $('webhooks').tBodies[0].replaceChildren(...rows);
    $('webhooks-empty').hidden = rows.length > 0;
  }

  function requeueButton(jobId, seq, jobStatus) {
    const allowed = REQUEUABLE.has(jobStatus);
    return el('button', {
      type: 'button',
      className: 'requeue',
      text: 'Requeue',
      disabled: allowed ? null : 'disabled',
      title: allowed ? 'Run task ' + seq + ' again' : 'The job is ' + jobStatus + '; its tasks are final',
      onclick: (event) => {
        event.stopPropagation();
        requeue(jobId, seq, event.currentTarget);
      },
    });
  }

  async function refreshDead() {
    const body = await api('/api/v1/dead-letters?limit=100');
    const rows = body.items.map((d) => el('tr', { dataset: { deadJob: d.jobId, seq: String(d.seq) } },
      el('td', {}, el('a', { href: '#', className: 'mono', text: shortId(d.jobId), title: d.jobId,
        onclick: (e) => { e.preventDefault(); selectJob(d.jobId); } })),
      td(String(d.seq), 'num'),
      td(d.jobType),
      td(d.queue),
      el('td', {}, badge(d.jobStatus)),
      td(String(d.attempt), 'num'),
      td(since(d.finishedAt), 'num', d.finishedAt),
      td(d.error || '', 'error wide', d.error),
      el('td', {}, requeueButton(d.jobId, d.seq, d.jobStatus))));
    $('dead').tBodies[0].replaceChildren(...rows);
    $('dead-empty').hidden = rows.length > 0;
    $('stat-dead').textContent = rows.length >= 100 ? '100+' : rows.length;
  }

  // ---- the requeue action ----

  async function requeue(jobId, seq, button) {
    if (!token()) {
      askForToken('Requeueing a task needs the API token: enter it above, then click Requeue again.', 'action');
      return;
    }
    button.disabled = true;
    button.textContent = 'Requeueing…';
    try {
      const r = await api('/api/v1/jobs/' + jobId + '/tasks/' + seq + '/requeue', { method: 'POST' });
      button.textContent = 'Requeued';
      hideNotice();
      toast('Task ' + seq + ' of job ' + shortId(jobId) + ' requeued; the job is ' + r.jobStatus
        + (r.dispatched ? '' : ' (it runs once the job is dispatched)'));
      selectJob(jobId, true);
      refreshAll();
    } catch (error) {
      button.disabled = false;
      button.textContent = 'Requeue';
      if (error.status === 401) {
        askForToken('The API token was refused: ' + error.message, 'action');
      } else {
        toast('Requeue failed: ' + error.message, 'error');
      }
    }
  }

  // ---- token ----

  function showTokenState() {
    $('token-state').textContent = token() ? 'token saved for this tab' : '';
    $('token').placeholder = token() ? '•••••••• (saved)' : 'admin token';
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $('token').value = '';
    hideNotice();
    showTokenState();
    refreshAll();
  });

  $('token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenState();
  });

  $('jobs-filter').addEventListener('change', (event) => {
    state.filter = event.target.value;
    refreshJobs().then(connected, failed);
  });

  // ---- polling ----

  const loops = [[refreshJobs, FAST_MS], [refreshTasks, FAST_MS], [refreshQueues, SLOW_MS],
    [refreshWorkers, SLOW_MS], [refreshSchedules, SLOW_MS], [refreshDead, SLOW_MS],
    [refreshWebhooks, SLOW_MS]];

  function refreshAll() {
    for (const [step] of loops) step().then(connected, failed);
  }

  function poll(step, ms) {
    const tick = () => step().then(connected, failed).finally(() => setTimeout(tick, ms));
    tick();
  }

  tokenFromFragment();
  showTokenState();
  for (const [step, ms] of loops) poll(step, ms);
})();
