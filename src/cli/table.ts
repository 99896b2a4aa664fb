import type { CheckResult, ResourceState, ResourceStatus } from '../types.js';

/** What the table shows besides `inspect()`: the latest word about each resource. */
export interface RowNote {
  /** The last progress message of a pending online or offline. */
  progress?: string | undefined;
  /** Why the resource last changed state. */
  reason?: string | undefined;
}

/** Everything one frame of the live table shows. */
export interface Frame {
  /** The header line's title (the config file). */
  title: string;
  statuses: ResourceStatus[];
  notes: ReadonlyMap<string, RowNote>;
  /** Recent events, oldest first. */
  recent: readonly string[];
  /** The time now (same clock as `since`). */
  now: number;
  /** A line under the header (how to stop, or that it is stopping). */
  status: string;
  /** The state of each group (shown on the group's heading line), when known. */
  groups?: ReadonlyMap<string, string>;
}

/** One line of the table's body: a group's heading, or a resource at a depth under what it depends on. */
type BodyLine = { group: string } | { status: ResourceStatus; depth: number };

/**
 * The order of the table's body: ungrouped resources first, then each group under a heading
 * (in the order their first member appears); within each, every resource under the first
 * resource it depends on, indented one level deeper.
 */
export function arrange(statuses: readonly ResourceStatus[]): BodyLine[] {
  const out: BodyLine[] = [];
  const sets = new Map<string | null, ResourceStatus[]>([[null, []]]);
  for (const s of statuses) {
    const key = s.group ?? null;
    let list = sets.get(key);
    if (!list) sets.set(key, (list = []));
    list.push(s);
  }
  for (const [group, list] of sets) {
    if (list.length === 0) continue;
    if (group !== null) out.push({ group });
    const byName = new Map(list.map((s) => [s.name, s] as const));
    const parentOf = (s: ResourceStatus): string | null => {
      const first = s.dependsOn[0];
      const name = first === undefined ? null : typeof first === 'string' ? first : (first.anyOf[0] ?? null);
      return name !== null && byName.has(name) && name !== s.name ? name : null;
    };
    const children = new Map<string, ResourceStatus[]>();
    const roots: ResourceStatus[] = [];
    for (const s of list) {
      const parent = parentOf(s);
      if (parent === null) roots.push(s);
      else {
        let kids = children.get(parent);
        if (!kids) children.set(parent, (kids = []));
        kids.push(s);
      }
    }
    const seen = new Set<string>();
    const walk = (s: ResourceStatus, depth: number) => {
      if (seen.has(s.name)) return;
      seen.add(s.name);
      out.push({ status: s, depth });
      for (const kid of children.get(s.name) ?? []) walk(kid, depth + 1);
    };
    for (const root of roots) walk(root, 0);
    for (const s of list) walk(s, 0); // anything left (not reachable from a root)
  }
  return out;
}

/** How to draw: terminal width and height, and whether to use colours. */
export interface FrameOptions {
  columns: number;
  rows: number;
  color: boolean;
}

const COLORS: Record<ResourceState, string> = {
  online: '\x1b[32m',
  'online-pending': '\x1b[33m',
  'offline-pending': '\x1b[33m',
  failed: '\x1b[31m',
  offline: '\x1b[2m',
};
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

/** `3s`, `4m05s`, `2h07m`, `3d04h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function check(result: CheckResult | null): string {
  if (!result) return '-';
  return `${result.ok ? 'ok' : 'FAIL'} ${Math.round(result.durationMs)}ms`;
}

function info(status: ResourceStatus, note: RowNote | undefined): string {
  if ((status.state === 'online-pending' || status.state === 'offline-pending') && note?.progress) return note.progress;
  if (status.state === 'online' && status.lastChecks.isAlive && !status.lastChecks.isAlive.ok) return status.lastChecks.isAlive.reason ?? '';
  if (status.state === 'online' && status.lastChecks.looksAlive && !status.lastChecks.looksAlive.ok) {
    return `looksAlive: ${status.lastChecks.looksAlive.reason ?? ''}`;
  }
  return note?.reason ?? '';
}

const HEAD = ['NAME', 'TYPE', 'STATE', 'SINCE', 'LOOKSALIVE', 'ISALIVE', 'RESTARTS (TOTAL)', 'NEXT RESTART', 'INFO'];
/** The room INFO keeps on a narrow terminal: columns are left out, in this order, until it has it. */
const INFO_ROOM = 24;
const DROP_ORDER = [4, 5, 7, 3, 1]; // LOOKSALIVE, ISALIVE, NEXT RESTART, SINCE, TYPE

/** One line per cell row: the plain text of each column. */
function rows(frame: Frame, body: readonly { status: ResourceStatus; depth: number }[]): string[][] {
  return body.map(({ status: s, depth }) => [
    `${'  '.repeat(depth)}${s.name}`,
    s.type,
    s.state,
    formatDuration(frame.now - s.since),
    check(s.lastChecks.looksAlive),
    check(s.lastChecks.isAlive),
    `${s.restarts.inWindow} (${s.restarts.total})`,
    s.nextRestartAt === null ? '-' : `in ${formatDuration(s.nextRestartAt - frame.now + 999)}`,
    info(s, frame.notes.get(s.name)).replace(/\s+/g, ' ').trim(),
  ]);
}

/**
 * Renders one frame of the live status table (in the manner of crm_mon): a header, one row per
 * resource, and the recent events under it. Every line fits in `columns` (the INFO column and
 * long events are cut) and the frame in `rows` (the oldest events go first). On a narrow
 * terminal (80 columns) LOOKSALIVE, ISALIVE, NEXT RESTART, SINCE and TYPE are left out, in that
 * order, until INFO has 24 columns.
 */
export function renderFrame(frame: Frame, options: FrameOptions): string[] {
  const { columns, color } = options;
  const layout = arrange(frame.statuses);
  const entries = layout.filter((l): l is { status: ResourceStatus; depth: number } => 'status' in l);
  const body = rows(frame, entries);
  const fixed = HEAD.length - 1;
  const widths = HEAD.slice(0, fixed).map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const hidden = new Set<number>();
  const used = () => widths.reduce((sum, w, i) => (hidden.has(i) ? sum : sum + w + 2), 0);
  for (const column of DROP_ORDER) {
    if (columns - 1 - used() >= INFO_ROOM) break;
    hidden.add(column);
  }
  const fit = (line: string) => (line.length > columns - 1 ? `${line.slice(0, Math.max(0, columns - 2))}…` : line);
  const lineOf = (cells: string[], colorState: ResourceState | null, bold: boolean) => {
    let plain = '';
    let out = '';
    cells.slice(0, fixed).forEach((cell, i) => {
      if (hidden.has(i)) return;
      const padded = `${cell.padEnd(widths[i] as number)}  `;
      plain += padded;
      out += i === 2 && colorState && color ? `${COLORS[colorState]}${padded}${RESET}` : padded;
    });
    const room = columns - 1 - plain.length;
    const last = cells[fixed] as string;
    const tail = room <= 0 ? '' : last.length > room ? `${last.slice(0, Math.max(0, room - 1))}…` : last;
    if (room < 0) return fit(plain.trimEnd());
    const line = (out + tail).trimEnd();
    return bold && color ? `${BOLD}${line}${RESET}` : line;
  };
  const lines = [
    fit(`resmon: ${frame.title}: ${frame.statuses.length} resource${frame.statuses.length === 1 ? '' : 's'}, ${new Date(frame.now).toISOString().slice(11, 19)} UTC`),
    fit(frame.status),
    '',
    lineOf(HEAD, null, true),
  ];
  let row = 0;
  for (const line of layout) {
    if ('group' in line) {
      const state = frame.groups?.get(line.group);
      const heading = `group ${line.group}${state ? `: ${state}` : ''}`;
      lines.push(fit(color ? `${BOLD}${heading}${RESET}` : heading));
    } else {
      lines.push(lineOf(body[row] as string[], line.status.state, false));
      row++;
    }
  }
  const room = options.rows - 1 - lines.length - 2;
  if (frame.recent.length > 0 && room > 0) {
    lines.push('', color ? `${BOLD}RECENT${RESET}` : 'RECENT');
    lines.push(...frame.recent.slice(-room).map(fit));
  }
  return lines.slice(0, Math.max(1, options.rows - 1));
}
