// Sluice dashboard: the graph of a pipeline's stages, drawn as inline SVG from a job's `stages`
// (GET /api/v1/jobs/{id}, in topological order). One box per stage, in columns by depth (the
// longest dependency path from a root stage), an arrow from each dependency to its dependent.
// Stage names and errors are user data: they are written with textContent and setAttribute only.
'use strict';

window.SluiceGraph = (() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const BOX_W = 164;
  const BOX_H = 62;
  const COL_GAP = 56;
  const ROW_GAP = 18;
  const PAD = 8;
  const TOP = PAD + ROW_GAP / 2; // room for a lane above the first row
  const BAR_W = BOX_W - 20;
  const NAME_CHARS = 17;
  const STATUSES = new Set(['WAITING', 'RUNNING', 'COLLECTING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);

  // Positions of the stages and the edges between them. Stages come in topological order, so one
  // pass finds every depth; a dependency not in the list (which the API never sends) is ignored.
  function layout(stages) {
    const byName = new Map();
    const columns = [];
    for (const stage of stages) {
      const deps = (stage.dependsOn || []).filter((d) => byName.has(d));
      const depth = deps.reduce((max, d) => Math.max(max, byName.get(d).depth + 1), 0);
      const column = columns[depth] || (columns[depth] = []);
      const node = {
        stage, deps, depth, row: column.length,
        x: PAD + depth * (BOX_W + COL_GAP), y: TOP + column.length * (BOX_H + ROW_GAP),
      };
      column.push(node);
      byName.set(stage.name, node);
    }
    const rows = columns.reduce((max, c) => Math.max(max, c.length), 0);
    const edges = [];
    for (const node of byName.values()) {
      for (const d of node.deps) edges.push({ from: byName.get(d), to: node });
    }
    return {
      nodes: [...byName.values()],
      edges,
      width: 2 * PAD + columns.length * BOX_W + Math.max(0, columns.length - 1) * COL_GAP,
      height: TOP + PAD + rows * BOX_H + Math.max(0, rows - 1) * ROW_GAP,
    };
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, String(value));
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const cut = (name) => (name.length > NAME_CHARS ? name.slice(0, NAME_CHARS - 1) + '…' : name);
  const fraction = (p) => Math.max(0, Math.min(1, Number(p) || 0));

  function box(node) {
    const s = node.stage;
    const status = STATUSES.has(s.status) ? s.status : 'WAITING';
    const done = (s.tasksSucceeded || 0) + (s.tasksFailed || 0);
    const g = svg('g', {
      class: 'stage ' + status,
      'data-stage': s.name,
      'data-status': status,
      transform: 'translate(' + node.x + ',' + node.y + ')',
    });
    const tip = [s.name + ' · ' + status, s.type ? 'type ' + s.type : null, s.queue ? 'queue ' + s.queue : null,
      s.error ? 'error: ' + s.error : null].filter(Boolean).join('\n');
    g.append(
      svg('title', {}, tip),
      svg('rect', { class: 'stage-box', width: BOX_W, height: BOX_H, rx: 8 }),
      svg('text', { class: 'stage-name', x: 10, y: 19 }, cut(s.name)),
      svg('text', { class: 'stage-status', x: 10, y: 37 }, status),
      svg('text', { class: 'stage-tasks', x: BOX_W - 10, y: 37, 'text-anchor': 'end' },
        done + '/' + (s.taskCount || 0)),
      svg('rect', { class: 'stage-track', x: 10, y: 46, width: BAR_W, height: 6, rx: 3 }),
      svg('rect', {
        class: 'stage-fill', x: 10, y: 46, height: 6, rx: 3,
        width: (BAR_W * fraction(s.progress)).toFixed(1), 'data-progress': fraction(s.progress),
      }));
    return g;
  }

  // An edge to the next column is one curve; one that skips columns runs along the gap above its
  // upper end's row, so that it never passes behind a box in between and looks like two edges.
  function arrow(edge) {
    const x1 = edge.from.x + BOX_W;
    const y1 = edge.from.y + BOX_H / 2;
    const x2 = edge.to.x - 3;
    const y2 = edge.to.y + BOX_H / 2;
    let d;
    if (edge.to.depth - edge.from.depth === 1) {
      const bend = (x2 - x1) / 2;
      d = 'M' + x1 + ',' + y1 + ' C' + (x1 + bend) + ',' + y1 + ' ' + (x2 - bend) + ',' + y2 + ' ' + x2 + ',' + y2;
    } else {
      const lane = Math.min(edge.from.y, edge.to.y) - ROW_GAP / 2;
      const r = COL_GAP / 2;
      d = 'M' + x1 + ',' + y1 + ' C' + (x1 + r) + ',' + y1 + ' ' + x1 + ',' + lane + ' ' + (x1 + r) + ',' + lane
        + ' L' + (x2 - r) + ',' + lane + ' C' + x2 + ',' + lane + ' ' + (x2 - r) + ',' + y2 + ' ' + x2 + ',' + y2;
    }
    return svg('path', {
      class: 'dep', 'data-from': edge.from.stage.name, 'data-to': edge.to.stage.name, d,
      'marker-end': 'url(#stage-arrow)',
    });
  }

  // The SVG of a pipeline, or null for a job of one stage (the job itself, already shown in full).
  function draw(stages) {
    if (!Array.isArray(stages) || stages.length < 2) return null;
    const plan = layout(stages);
    const root = svg('svg', {
      class: 'stage-graph', width: plan.width, height: plan.height,
      viewBox: '0 0 ' + plan.width + ' ' + plan.height, role: 'img', 'aria-label': 'pipeline stages',
    });
    const marker = svg('marker', {
      id: 'stage-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'dep-head' }));
    const defs = svg('defs');
    defs.append(marker);
    root.append(defs, ...plan.edges.map(arrow), ...plan.nodes.map(box));
    return root;
  }

  return { draw, layout };
})();
