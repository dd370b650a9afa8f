// The dashboard: a page per hash route (#/, #/volumes, #/volumes/ID, #/pools, #/nodes). Each page has forms, built
// once, and a live part rebuilt from the API every POLL_MS, so the page follows the cluster without a reload and
// typing in a form is never lost to an update.
import { ApiError, allVolumes, del, get, put, seg, token } from './api.js';
import { badge, bar, bytes, countBy, h, table, toBytes, when } from './dom.js';

const POLL_MS = 2000;
const VOLUME_ORDER = ['Faulted', 'Degraded', 'Unknown', 'Shutdown', 'Online'];
const NODE_ORDER = ['Online', 'Offline', 'Unknown'];

const main = document.getElementById('page');
const status = document.getElementById('status');
let current = null; // { page, live, generation }
let generation = 0;
let timer = null;
let run = 0; // the latest refresh: an older one still waiting for the API neither renders nor schedules

// ---- routing and the update loop ----

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'volumes' && parts[1]) return volumePage(parts[1]);
  if (parts[0] === 'volumes') return volumesPage();
  if (parts[0] === 'pools') return poolsPage();
  if (parts[0] === 'nodes') return nodesPage();
  return overviewPage();
}

function show() {
  if (!signedIn()) return;
  const page = route();
  for (const link of document.querySelectorAll('nav a')) {
    link.classList.toggle('active', link.dataset.page === page.name);
  }
  const live = h('div', { class: 'live', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'loading…'));
  main.replaceChildren(h('h1', null, page.title), ...[page.forms?.() ?? []].flat(), live);
  current = { page, live, generation: ++generation };
  refresh();
}

/** Loads the page's data and rebuilds its live part; then again after POLL_MS. Also called right after an action. */
async function refresh() {
  clearTimeout(timer);
  const shown = current;
  const mine = ++run;
  if (!shown || !signedIn()) return;
  try {
    const data = await shown.page.load();
    if (mine !== run || shown.generation !== current?.generation) return; // superseded, or the user moved on
    shown.live.replaceChildren(shown.page.render(data));
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    if (mine !== run) return;
    if (e instanceof ApiError && e.status === 401) {
      signOut(`The API did not accept the token: ${e.message}`);
      return;
    }
    setStatus(`update failed: ${e}`, true);
  }
  if (mine === run && shown.generation === current?.generation) timer = setTimeout(refresh, POLL_MS);
}

function setStatus(text, error = false) {
  status.textContent = text;
  status.classList.toggle('error', error);
}

// ---- sign-in: the token is checked by reading the node list, as any viewer may ----

function signedIn() {
  const yes = token.get() !== null;
  document.getElementById('sign-in').hidden = yes;
  document.getElementById('sign-out').hidden = !yes;
  main.hidden = !yes;
  return yes;
}

function signOut(reason) {
  token.clear();
  current = null;
  clearTimeout(timer);
  main.replaceChildren();
  setStatus('');
  document.getElementById('sign-in-error').textContent = reason ?? '';
  signedIn();
}

document.getElementById('sign-in-form').addEventListener('submit', async event => {
  event.preventDefault();
  const field = document.getElementById('token');
  token.set(field.value);
  try {
    await get('/nodes');
    field.value = '';
    document.getElementById('sign-in-error').textContent = '';
    show();
  } catch (e) {
    token.clear();
    document.getElementById('sign-in-error').textContent = e.status === 401
      ? `The API did not accept the token: ${e.message}` : String(e);
  }
});
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', show);

// ---- forms: each action calls the API and shows its answer, the API's own error message included ----

function actionForm(name, fields, buttons) {
  const message = h('p', { class: 'message', role: 'alert', 'data-form': name });
  const form = h('form', { name, novalidate: true, autocomplete: 'off' }, fields,
    buttons.map(([text, action, kind]) => h('button', {
      type: 'button', name: text.toLowerCase().replace(/\s+/g, '-'), class: kind ?? '',
      onclick: async () => {
        message.className = 'message';
        message.textContent = '…';
        try {
          const done = await action(new FormData(form), form);
          message.classList.add('ok');
          message.replaceChildren(...[done ?? 'done'].flat());
          refresh();
        } catch (e) {
          message.classList.add('error');
          message.textContent = e instanceof ApiError ? `${e.kind}: ${e.message}` : String(e);
        }
      },
    }, text)));
  // Enter in a field runs the first button.
  form.addEventListener('submit', event => {
    event.preventDefault();
    form.querySelector('button').click();
  });
  return h('section', { class: 'card' }, form, message);
}

function field(label, name, attrs = {}) {
  return h('label', null, label, h('input', { name, ...attrs }));
}

function sizeField(label, name, value, unit = 'GiB') {
  return h('label', null, label, h('span', null,
    h('input', { name, value, size: 8, inputmode: 'decimal' }),
    h('select', { name: `${name}-unit` }, ['MiB', 'GiB', 'TiB'].map(u => h('option', { value: u, selected: u === unit }, u)))));
}

function required(data, name, what) {
  const value = String(data.get(name) ?? '').trim();
  if (!value) throw new Error(`${what} is required`);
  return value;
}

function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map(v => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// ---- shared pieces ----

function volumeLink(uuid) {
  return h('a', { href: `#/volumes/${seg(uuid)}`, class: 'mono' }, uuid);
}

function nodeStatus(node) {
  return node.state?.status ?? 'Unknown';
}

/** Cordon / drain state of a node, from its spec's cordondrainstate. */
function scheduling(node) {
  const cds = node.spec?.cordondrainstate;
  if (cds?.drainedstate) return [badge('Drained'), ` ${cds.drainedstate.drainlabels.join(', ')}`];
  if (cds?.drainingstate) return [badge('Draining'), ` ${cds.drainingstate.drainlabels.join(', ')}`];
  if (cds?.cordonedstate) return [badge('Cordoned'), ` ${cds.cordonedstate.cordonlabels.join(', ')}`];
  return h('span', { class: 'muted' }, 'schedulable');
}

function labels(map) {
  const entries = Object.entries(map ?? {});
  return entries.length ? entries.map(([k, v]) => h('code', null, `${k}=${v} `)) : h('span', { class: 'muted' }, '–');
}

function volumeRank(volume) {
  const i = VOLUME_ORDER.indexOf(volume.state?.status);
  return i < 0 ? VOLUME_ORDER.length : i;
}

function volumesTable(volumes) {
  const sorted = [...volumes].sort((a, b) => volumeRank(a) - volumeRank(b) || a.spec.uuid.localeCompare(b.spec.uuid));
  return table(['Volume', 'State', 'Size', 'Replicas', 'Target'], sorted.map(v => h('tr', { 'data-volume': v.spec.uuid },
    h('td', null, volumeLink(v.spec.uuid)),
    h('td', null, badge(v.state?.status)),
    h('td', null, bytes(v.spec.size)),
    h('td', null, `${Object.keys(v.state?.replica_topology ?? {}).length} / ${v.spec.num_replicas}`),
    h('td', null, v.spec.target?.node ?? h('span', { class: 'muted' }, 'not published')))), 'no volumes');
}

function poolsTable(pools) {
  return table(['Pool', 'Node', 'State', 'Capacity (used of total)', 'Committed', 'Labels'], pools.map(p => h('tr', { 'data-pool': p.id },
    h('td', { class: 'mono' }, p.id),
    h('td', null, p.spec?.node ?? p.state?.node),
    h('td', null, badge(p.state?.status ?? p.spec?.status)),
    h('td', null, p.state ? bar(p.state.used, p.state.capacity, `${bytes(p.state.used)} of ${bytes(p.state.capacity)}`) : '–'),
    h('td', null, bytes(p.state?.committed)),
    h('td', null, labels(p.spec?.labels)))), 'no pools');
}

function countsOf(items, key, order) {
  return h('div', { class: 'counts' }, countBy(items, key, order).map(([state, n]) =>
    h('span', { class: 'count', 'data-count': state, 'data-n': n }, badge(state), h('b', null, n))));
}

// ---- pages ----

function overviewPage() {
  return {
    name: 'overview',
    title: 'Cluster overview',
    load: async () => {
      const [nodes, pools, volumes] = await Promise.all([get('/nodes'), get('/pools'), allVolumes()]);
      return { nodes, pools, volumes };
    },
    render: ({ nodes, pools, volumes }) => h('div', null,
      h('div', { class: 'grid' },
        h('section', { class: 'card', id: 'nodes' }, h('h2', null, `Nodes (${nodes.length})`),
          countsOf(nodes, nodeStatus, NODE_ORDER),
          table(['Node', 'State', 'Scheduling'], nodes.map(n => h('tr', { 'data-node': n.id },
            h('td', { class: 'mono' }, n.id), h('td', null, badge(nodeStatus(n))), h('td', null, scheduling(n)))), 'no nodes')),
        h('section', { class: 'card', id: 'volumes-by-state' }, h('h2', null, `Volumes (${volumes.length})`),
          countsOf(volumes, v => v.state?.status ?? 'Unknown', VOLUME_ORDER),
          h('p', { class: 'muted' }, 'Degraded and faulted volumes are listed first.'))),
      h('section', { class: 'card', id: 'pools' }, h('h2', null, `Pools (${pools.length})`), poolsTable(pools)),
      h('section', { class: 'card', id: 'volumes' }, h('h2', null, 'Volumes'), volumesTable(volumes))),
  };
}

function volumesPage() {
  return {
    name: 'volumes',
    title: 'Volumes',
    forms: () => [h('h2', null, 'Create a volume'), actionForm('create-volume', [
      field('Volume id (UUID)', 'id', { value: newUuid(), spellcheck: 'false' }),
      sizeField('Size', 'size', '1'),
      field('Replicas', 'replicas', { value: '3', size: 4, inputmode: 'numeric' }),
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'thin', checked: true }), 'thin'),
      field('Max snapshots (0: no limit)', 'max_snapshots', { value: '0', size: 4, inputmode: 'numeric' }),
    ], [['Create', async (data, form) => {
      const id = required(data, 'id', 'the volume id');
      // Numbers go to the API as typed when they are not numbers: its validation says what is wrong.
      const number = name => (data.get(name) === '' || Number.isNaN(Number(data.get(name))) ? data.get(name) : Number(data.get(name)));
      const volume = await put(`/volumes/${seg(id)}`, {
        size: toBytes(String(data.get('size')).trim(), data.get('size-unit')),
        replicas: number('replicas'),
        thin: data.get('thin') === 'on',
        policy: { self_heal: true },
        max_snapshots: number('max_snapshots'),
      });
      form.elements.id.value = newUuid();
      return ['created volume ', volumeLink(volume.spec.uuid)];
    }]])],
    load: allVolumes,
    render: volumes => h('section', { class: 'card', id: 'volumes' }, h('h2', null, `All volumes (${volumes.length})`),
      countsOf(volumes, v => v.state?.status ?? 'Unknown', VOLUME_ORDER), volumesTable(volumes)),
  };
}

function volumePage(uuid) {
  const path = `/volumes/${seg(uuid)}`;
  // Sections other than the volume itself may fail on their own (no target yet, no events): shown as their error.
  const settle = promise => promise.then(value => ({ value }), error => ({ error }));
  return {
    name: 'volumes',
    title: `Volume ${uuid}`,
    forms: () => h('div', { class: 'grid' },
      actionForm('scale-volume', [field('Replicas', 'replicas', { size: 4, inputmode: 'numeric' })],
        [['Scale', async data => {
          const n = required(data, 'replicas', 'the replica count');
          await put(`${path}/replica_count/${seg(n)}`);
          return `replica count set to ${n}`;
        }]]),
      actionForm('resize-volume', [sizeField('New size', 'size', '')],
        [['Resize', async data => {
          const size = toBytes(required(data, 'size', 'the new size'), data.get('size-unit'));
          await put(`${path}/size`, { size });
          return `size set to ${bytes(size)}`;
        }]]),
      actionForm('delete-volume', [h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'sure' }),
        'destroy the volume and its data')],
      [['Delete', async data => {
        if (data.get('sure') !== 'on') throw new Error('tick the box to confirm: deleting destroys the data');
        await del(path);
        location.hash = '#/volumes';
        return 'deleted';
      }, 'danger']])),
    load: async () => {
      const volume = await get(path);
      const [snapshots, events, rebuilds] = await Promise.all([
        settle(get(`${path}/snapshots`)),
        settle(get(`/events?resource_id=${seg(uuid)}&page_size=50`)),
        settle(get(`${path}/rebuild-history`)),
      ]);
      return { volume, snapshots, events, rebuilds };
    },
    render: ({ volume, snapshots, events, rebuilds }) => h('div', null,
      volumeSummary(volume), replicaTopology(volume), targetSection(volume),
      rebuildSection(rebuilds), snapshotSection(snapshots), eventSection(events)),
  };
}

function volumeSummary({ spec, state }) {
  const facts = [
    ['State', badge(state.status)],
    ['Spec', badge(spec.status)],
    ['Size', bytes(spec.size)],
    ['Replicas', `${Object.keys(state.replica_topology ?? {}).length} of ${spec.num_replicas}`],
    ['Provisioning', spec.thin ? 'thin' : 'thick'],
    ['Snapshots', `${spec.num_snapshots}${spec.max_snapshots ? ` of at most ${spec.max_snapshots}` : ''}`],
  ];
  return h('section', { class: 'card', id: 'summary' }, h('h2', null, 'Volume'), dl(facts));
}

function dl(facts) {
  return h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', null, term), h('dd', null, value)]));
}

function progress(percent) {
  return percent === undefined || percent === null ? '–' : bar(percent, 100);
}

function replicaTopology({ state }) {
  const rows = Object.entries(state.replica_topology ?? {}).map(([id, r]) => h('tr', { 'data-replica': id },
    h('td', { class: 'mono' }, id),
    h('td', null, r.node ?? '–'),
    h('td', null, r.pool ?? '–'),
    h('td', null, badge(r.state)),
    h('td', null, r['child-status'] ? badge(r['child-status']) : '–'),
    h('td', null, progress(r['rebuild-progress']))));
  return h('section', { class: 'card', id: 'replicas' }, h('h2', null, 'Replica topology'),
    table(['Replica', 'Node', 'Pool', 'State', 'In the target', 'Rebuild'], rows, 'no replicas'));
}

function targetSection({ spec, state }) {
  const target = state.target;
  if (!target) {
    return h('section', { class: 'card', id: 'target' }, h('h2', null, 'Target'), h('p', { class: 'muted' },
      spec.target ? `published on ${spec.target.node}; its target is not reported` : 'not published'));
  }
  const children = target.children.map(c => h('tr', null,
    h('td', { class: 'mono' }, c.uri),
    h('td', null, badge(c.state)),
    h('td', null, progress(c.rebuildProgress))));
  return h('section', { class: 'card', id: 'target' }, h('h2', null, 'Target'),
    dl([['Node', target.node], ['State', badge(target.state)], ['Protocol', target.protocol],
      ['Device', h('span', { class: 'mono' }, target.deviceUri || '–')], ['Rebuilds', String(target.rebuilds)]]),
    h('h2', null, 'Paths to the replicas'),
    table(['Child', 'State', 'Rebuild'], children));
}

function rebuildSection(rebuilds) {
  const body = rebuilds.error
    ? h('p', { class: 'muted' }, String(rebuilds.error))
    : table(['Started', 'Child', 'State', 'Progress'], [...rebuilds.value.records].reverse().map(r => h('tr', null,
      h('td', null, when(r.startTime)),
      h('td', { class: 'mono' }, r.childUri),
      h('td', null, badge(r.rebuildJobState)),
      h('td', null, bar(r.blocksTotal - r.blocksRemaining, r.blocksTotal)))), 'no rebuilds');
  return h('section', { class: 'card', id: 'rebuilds' }, h('h2', null, 'Rebuild history'), body);
}

function snapshotSection(snapshots) {
  const body = snapshots.error
    ? h('p', { class: 'error' }, String(snapshots.error))
    : table(['Snapshot', 'Taken', 'State', 'Allocated', 'Ready as a source'], snapshots.value.entries.map(s => h('tr', null,
      h('td', { class: 'mono' }, s.state.uuid),
      h('td', null, when(s.state.timestamp ?? s.definition.metadata.timestamp)),
      h('td', null, badge(s.definition.metadata.status)),
      h('td', null, bytes(s.state.allocated_size)),
      h('td', null, s.state.ready_as_source ? 'yes' : 'no'))), 'no snapshots');
  return h('section', { class: 'card', id: 'snapshots' }, h('h2', null, 'Snapshots'), body);
}

function eventSection(events) {
  let body;
  if (events.error) body = h('p', { class: 'error' }, String(events.error));
  else if (events.value.entries.length === 0) body = h('p', { class: 'empty' }, 'no events');
  else {
    body = h('ol', { class: 'timeline' }, events.value.entries.map(e => h('li', null,
      h('span', null, when(e.time)),
      h('span', null, badge(e.severity)),
      h('span', null, h('b', null, e.kind), ' ', e.message))));
  }
  return h('section', { class: 'card', id: 'events' }, h('h2', null, `Events (newest first, ${events.value?.total ?? 0} in all)`), body);
}

function poolsPage() {
  return {
    name: 'pools',
    title: 'Pools',
    forms: () => [h('datalist', { id: 'pool-ids' }), actionForm('pool-label', [
      field('Pool', 'pool', { list: 'pool-ids', spellcheck: 'false' }),
      field('Label (key=value to add, key to remove)', 'label', { spellcheck: 'false' }),
    ], [
      ['Add label', async data => {
        const label = required(data, 'label', 'the label');
        await put(`/pools/${seg(required(data, 'pool', 'the pool'))}/label/${seg(label)}?overwrite=true`);
        return `labelled ${label}`;
      }],
      ['Remove label', async data => {
        const key = required(data, 'label', 'the label key');
        await del(`/pools/${seg(required(data, 'pool', 'the pool'))}/label/${seg(key)}`);
        return `removed label ${key}`;
      }, 'secondary'],
    ])],
    load: () => get('/pools'),
    render: pools => {
      document.getElementById('pool-ids')?.replaceChildren(...pools.map(p => h('option', { value: p.id })));
      return h('section', { class: 'card', id: 'pools' }, poolsTable(pools));
    },
  };
}

function nodesPage() {
  const withNode = (data, then) => then(seg(required(data, 'node', 'the node')), String(data.get('label') ?? '').trim());
  return {
    name: 'nodes',
    title: 'Nodes',
    forms: () => [h('datalist', { id: 'node-ids' }), actionForm('node-action', [
      field('Node', 'node', { list: 'node-ids', spellcheck: 'false' }),
      field('Label (cordon/drain label; key=value to add, key to remove)', 'label', { value: 'dashboard', spellcheck: 'false' }),
    ], [
      ['Cordon', data => withNode(data, async (node, label) => {
        await put(`/nodes/${node}/cordon/${seg(label)}`);
        return `cordoned with ${label}`;
      })],
      ['Uncordon', data => withNode(data, async (node, label) => {
        await del(`/nodes/${node}/cordon/${seg(label)}`);
        return `removed cordon ${label}`;
      }), 'secondary'],
      ['Drain', data => withNode(data, async (node, label) => {
        await put(`/nodes/${node}/drain/${seg(label)}`);
        return `draining with ${label}`;
      }), 'secondary'],
      ['Add label', data => withNode(data, async (node, label) => {
        await put(`/nodes/${node}/label/${seg(label)}?overwrite=true`);
        return `labelled ${label}`;
      }), 'secondary'],
      ['Remove label', data => withNode(data, async (node, label) => {
        await del(`/nodes/${node}/label/${seg(label)}`);
        return `removed label ${label}`;
      }), 'secondary'],
    ])],
    load: async () => {
      const [nodes, pools] = await Promise.all([get('/nodes'), get('/pools')]);
      return { nodes, pools };
    },
    render: ({ nodes, pools }) => {
      document.getElementById('node-ids')?.replaceChildren(...nodes.map(n => h('option', { value: n.id })));
      return h('section', { class: 'card', id: 'nodes' }, countsOf(nodes, nodeStatus, NODE_ORDER),
        table(['Node', 'State', 'Scheduling', 'Labels', 'Pools', 'Endpoint', 'Version'], nodes.map(n => h('tr', { 'data-node': n.id },
          h('td', { class: 'mono' }, n.id),
          h('td', null, badge(nodeStatus(n))),
          h('td', null, scheduling(n)),
          h('td', null, labels(n.spec?.labels)),
          h('td', null, pools.filter(p => (p.spec?.node ?? p.state?.node) === n.id).map(p => h('div', { class: 'mono' }, p.id))),
          h('td', { class: 'mono' }, n.spec?.grpcEndpoint ?? n.state?.grpcEndpoint ?? '–'),
          h('td', null, n.state?.version ?? n.spec?.version ?? '–'))), 'no nodes'));
    },
  };
}

// A gateway with authentication off answers without a token: then there is nothing to sign in with.
if (token.get() === null) {
  get('/nodes').then(() => token.set(''), e => e.status !== 401 && token.set('')).finally(() => signedIn() && show());
} else {
  show();
}
