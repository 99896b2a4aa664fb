import { parseArgs } from 'node:util';
import { defaultRuntimeDir, listAgents, locateAgent, ocfRoot, readMetadata } from '../builtins/ocf/agent.js';
import { deepestCheckLevel, type OcfMetadata, policyFromMetadata } from '../builtins/ocf/metadata.js';
import { reasonOf } from '../errors.js';
import { type CommandIo, defaultIo, SYNOPSIS } from './args.js';

/** Where `resmon ocf` writes. */
export type OcfIo = CommandIo;

/** How many agents `list` asks for meta-data at once. */
const CONCURRENCY = 8;

/**
 * `resmon ocf list [--root DIR] [--json]`: the OCF resource agents under the root, with the
 * one-line description each agent's meta-data gives (or why it gave none).
 * `resmon ocf info PROVIDER/NAME|PATH [--root DIR] [--json]`: an agent's parameters (type,
 * required, default, description), its actions with their advertised timeouts, intervals and
 * depths, and the policy defaults and check level resmon takes from them.
 * Exit codes: 0 done, 1 the agent (info) or the root (list) cannot be read, 2 bad usage.
 */
export async function ocfMain(argv: string[], io: OcfIo = defaultIo): Promise<number> {
  const usage = `usage: ${SYNOPSIS.ocf}`;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { root: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.err(`resmon ocf: ${reasonOf(error)}\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${usage}\n`);
    return 0;
  }
  const [sub, ...rest] = positionals;
  const root = values.root;
  if (sub === 'list' && rest.length === 0) return list(root, values.json === true, io);
  if (sub === 'info' && rest.length === 1) return info(rest[0]!, root, values.json === true, io);
  io.err(`resmon ocf: expected "list" or "info AGENT"\n${usage}\n`);
  return 2;
}

async function list(root: string | undefined, json: boolean, io: OcfIo): Promise<number> {
  const agents = listAgents(root);
  if (agents.length === 0) {
    io.err(`resmon ocf: no agents under ${ocfRoot(root)}/resource.d (install resource-agents, or pass --root)\n`);
    return 1;
  }
  const rows: { agent: string; description: string | null; error: string | null }[] = agents.map((agent) => ({ agent, description: null, error: null }));
  let next = 0;
  const runtime = defaultRuntimeDir();
  const worker = async () => {
    while (next < rows.length) {
      const row = rows[next++]!;
      try {
        row.description = (await readMetadata(locateAgent(row.agent, root), runtime)).shortdesc;
      } catch (error) {
        row.error = reasonOf(error).replace(/^agent is not a usable OCF agent: \S+ /, '').replace(/ \(got .*\)$/, '');
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (json) {
    io.out(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  const width = Math.max(...rows.map((r) => r.agent.length));
  for (const r of rows) io.out(`${r.agent.padEnd(width)}  ${r.description ?? `(no meta-data: ${r.error})`}\n`);
  return 0;
}

async function info(agent: string, root: string | undefined, json: boolean, io: OcfIo): Promise<number> {
  let meta: OcfMetadata;
  try {
    meta = await readMetadata(locateAgent(agent, root), defaultRuntimeDir());
  } catch (error) {
    io.err(`resmon ocf info: ${reasonOf(error)}\n`);
    return 1;
  }
  const defaults = policyFromMetadata(meta);
  const checkLevel = deepestCheckLevel(meta);
  if (json) {
    io.out(`${JSON.stringify({ agent, ...meta, resmon: { defaults, checkLevel } }, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [`${agent}${meta.version ? ` (version ${meta.version})` : ''}: ${meta.shortdesc}`, ''];
  if (meta.longdesc) lines.push(...wrap(meta.longdesc, 96), '');
  lines.push('Parameters (params.<name>; * = required):');
  if (meta.parameters.length === 0) lines.push('  (none)');
  lines.push(
    ...table(
      ['name', 'type', 'default', 'description'],
      meta.parameters.map((p) => [
        `${p.name}${p.required ? ' *' : ''}${p.deprecated ? ' (deprecated)' : ''}`,
        p.options ? `${p.type}: ${p.options.join('|')}` : p.type,
        p.default ?? '',
        p.shortdesc,
      ]),
    ),
  );
  lines.push('', 'Actions (advertised):');
  lines.push(
    ...table(
      ['action', 'timeout', 'interval', 'depth', 'role'],
      meta.actions.map((a) => [a.name, ms(a.timeoutMs), ms(a.intervalMs), a.depth === null ? '' : String(a.depth), a.role ?? '']),
    ),
  );
  const policy = Object.entries(defaults).map(([k, v]) => `${k}: ${v}`);
  lines.push('', `resmon: looksAlive = monitor at OCF_CHECK_LEVEL=0, isAlive = monitor at OCF_CHECK_LEVEL=${checkLevel}`);
  lines.push(`resmon defaults from these actions: ${policy.length > 0 ? policy.join(', ') : 'none (the monitor\'s apply)'}`);
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

const ms = (value: number | null) => (value === null ? '' : value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`);

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = head.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!)))
      .join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
