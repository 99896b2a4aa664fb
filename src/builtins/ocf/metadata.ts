import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ResourcePolicy } from '../../policy.js';

/** One parameter an agent advertises in its meta-data. */
export interface OcfParameter {
  /** Its name: `params.<name>`, passed to the agent as `OCF_RESKEY_<name>`. */
  readonly name: string;
  /** The agent cannot work without it. */
  readonly required: boolean;
  /** Its value must differ between resources of this agent (informational). */
  readonly unique: boolean;
  /** The content type: `string`, `integer`, `boolean`, `select`, or what the agent says. */
  readonly type: string;
  /** The default the agent applies when the parameter is not given, as text, or null. */
  readonly default: string | null;
  /** The allowed values of a `select` parameter (OCF 1.1), else null. */
  readonly options: readonly string[] | null;
  /** The agent marks it deprecated. */
  readonly deprecated: boolean;
  /** OCF 1.1: a change of it can be applied with the `reload-agent` action. */
  readonly reloadable: boolean;
  /** One line about it. */
  readonly shortdesc: string;
  /** The long description. */
  readonly longdesc: string;
}

/** One action an agent advertises. */
export interface OcfAction {
  /** `start`, `stop`, `monitor`, `validate-all`, `meta-data`, ... */
  readonly name: string;
  /** The advised timeout in milliseconds, or null. */
  readonly timeoutMs: number | null;
  /** The advised interval of a recurring action (monitor) in milliseconds, or null. */
  readonly intervalMs: number | null;
  /** The check level (`depth`) of a monitor action, or null. */
  readonly depth: number | null;
  /** The role a monitor applies to (`Promoted`, `Unpromoted`...), or null. */
  readonly role: string | null;
}

/** What an agent's `meta-data` action says about it. */
export interface OcfMetadata {
  /** The name in `<resource-agent name="...">`. */
  readonly name: string;
  /** The agent's version, or null. */
  readonly version: string | null;
  /** One line about the agent. */
  readonly shortdesc: string;
  /** The long description. */
  readonly longdesc: string;
  readonly parameters: readonly OcfParameter[];
  readonly actions: readonly OcfAction[];
}

/** The deepest check level resmon runs as isAlive (OCF: depths go up to 20). */
export const MAX_CHECK_LEVEL = 20;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name) => ['parameter', 'action', 'shortdesc', 'longdesc', 'option'].includes(name),
});

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Node[] => (Array.isArray(v) ? v.filter(isNode) : isNode(v) ? [v] : []);

/** The text of an element: `<shortdesc lang="en">text</shortdesc>` or a bare string. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (isNode(value) && typeof value['#text'] === 'string') return value['#text'].trim();
  return '';
}

/** Of several `<shortdesc lang=...>`, the English one (or one without lang, or the first). */
function described(values: unknown): string {
  const all = Array.isArray(values) ? values : values === undefined ? [] : [values];
  const english = all.find((v) => isNode(v) && (v.lang === 'en' || v.lang === undefined)) ?? all[0];
  return textOf(english).replace(/\s+/g, ' ');
}

/** `1`, `yes`, `true` (as Pacemaker's crm_is_true reads a flag attribute). */
function flag(value: unknown): boolean {
  return typeof value === 'string' && ['1', 'true', 'yes', 'y', 'on'].includes(value.trim().toLowerCase());
}

/**
 * A duration as OCF meta-data and Pacemaker write it (`20`, `20s`, `90sec`, `2m`, `2min`,
 * `1h`, `500ms`, `100us`; no unit means seconds), in milliseconds; null when it is not one.
 */
export function parseDuration(text: string | undefined | null): number | null {
  if (text === undefined || text === null) return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const scale: Record<string, number> = { '': 1000, s: 1000, sec: 1000, ms: 1, msec: 1, us: 0.001, usec: 0.001, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };
  const factor = scale[unit];
  return factor === undefined ? null : Math.round(value * factor);
}

/**
 * Parses an agent's meta-data (OCF resource agent API, `ra-api-1.dtd`) with a real XML parser.
 * Throws an Error saying what is wrong when the text is not well-formed XML or its root is not
 * `<resource-agent>`.
 */
export function parseMetadata(xml: string): OcfMetadata {
  const text = xml.trim();
  if (text.length === 0) throw new Error('meta-data printed nothing');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new Error(`meta-data is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const doc = parser.parse(text) as Node;
  const root = doc['resource-agent'];
  if (!isNode(root)) throw new Error(`meta-data is XML but its root element is not <resource-agent> (found ${Object.keys(doc).filter((k) => !k.startsWith('?')).join(', ') || 'nothing'})`);
  const parameters: OcfParameter[] = [];
  for (const p of list(isNode(root.parameters) ? root.parameters.parameter : undefined)) {
    const name = typeof p.name === 'string' ? p.name.trim() : '';
    if (!name) continue;
    const content = list(p.content)[0] ?? {};
    const options = list(content.option)
      .map((o) => (typeof o.value === 'string' ? o.value : null))
      .filter((v): v is string => v !== null);
    parameters.push({
      name,
      required: flag(p.required),
      unique: flag(p.unique),
      type: typeof content.type === 'string' ? content.type.trim() : 'string',
      default: typeof content.default === 'string' ? content.default : null,
      options: options.length > 0 ? options : null,
      deprecated: flag(p.deprecated) || 'deprecated' in p,
      reloadable: flag(p.reloadable),
      shortdesc: described(p.shortdesc),
      longdesc: described(p.longdesc),
    });
  }
  const actions: OcfAction[] = [];
  for (const a of list(isNode(root.actions) ? root.actions.action : undefined)) {
    if (typeof a.name !== 'string' || a.name.trim() === '') continue;
    const depth = typeof a.depth === 'string' && /^\s*\d+\s*$/.test(a.depth) ? Number(a.depth) : null;
    actions.push({
      name: a.name.trim(),
      timeoutMs: parseDuration(a.timeout as string | undefined),
      intervalMs: parseDuration(a.interval as string | undefined),
      depth,
      role: typeof a.role === 'string' ? a.role : null,
    });
  }
  const version = typeof root.version === 'string' ? root.version : textOf(root.version) || null;
  return {
    name: typeof root.name === 'string' ? root.name : '',
    version,
    shortdesc: described(root.shortdesc),
    longdesc: described(root.longdesc),
    parameters,
    actions,
  };
}

/** The monitor actions of the resource's plain (not promoted) role. */
function monitors(meta: OcfMetadata): OcfAction[] {
  return meta.actions.filter((a) => a.name === 'monitor' && (a.role === null || /^(started|unpromoted|slave)$/i.test(a.role)));
}

/** The check level isAlive runs: the deepest advertised monitor depth up to 20, else 0. */
export function deepestCheckLevel(meta: OcfMetadata): number {
  let deepest = 0;
  for (const a of monitors(meta)) if (a.depth !== null && a.depth <= MAX_CHECK_LEVEL && a.depth > deepest) deepest = a.depth;
  return deepest;
}

/** The advertised monitor action of a check level (depth 0 also matches a monitor without a depth). */
export function monitorAt(meta: OcfMetadata, level: number): OcfAction | null {
  return monitors(meta).find((a) => (a.depth ?? 0) === level) ?? null;
}

/** The advertised action of that name (for monitor, use {@link monitorAt}). */
export function actionNamed(meta: OcfMetadata, name: string): OcfAction | null {
  return meta.actions.find((a) => a.name === name) ?? null;
}

/**
 * The policy an agent's advertised actions suggest, used as type-level defaults of its
 * resources (a resource's own `policy` overrides each):
 *
 * - `pendingTimeout`: the longer of the `start` and `stop` timeouts;
 * - `deadlockTimeout`: the longest of the timeouts of the two monitors resmon runs (level 0 and the
 *   deepest), `validate-all` and `stop` (terminate runs stop);
 * - `isAlivePollInterval`: the interval of the monitor at the deepest level;
 * - `looksAlivePollInterval`: the interval of the level-0 monitor when a deeper level is
 *   advertised; 0 (off) when level 0 is the deepest, since both checks would run the same action.
 */
export function policyFromMetadata(meta: OcfMetadata): Partial<ResourcePolicy> {
  const out: Partial<ResourcePolicy> = {};
  const max = (values: (number | null | undefined)[]) => {
    const known = values.filter((v): v is number => typeof v === 'number' && v > 0);
    return known.length > 0 ? Math.max(...known) : null;
  };
  const pending = max([actionNamed(meta, 'start')?.timeoutMs, actionNamed(meta, 'stop')?.timeoutMs]);
  if (pending !== null) out.pendingTimeout = pending;
  const deepest = deepestCheckLevel(meta);
  const checks = [monitorAt(meta, 0)?.timeoutMs, monitorAt(meta, deepest)?.timeoutMs];
  const deadlock = max([...checks, actionNamed(meta, 'validate-all')?.timeoutMs, actionNamed(meta, 'stop')?.timeoutMs]);
  if (deadlock !== null) out.deadlockTimeout = deadlock;
  const deep = monitorAt(meta, deepest)?.intervalMs;
  if (deep) out.isAlivePollInterval = deep;
  if (deepest > 0) {
    const shallow = monitorAt(meta, 0)?.intervalMs;
    if (shallow) out.looksAlivePollInterval = shallow;
  } else if (deep) {
    out.looksAlivePollInterval = 0;
  }
  return out;
}
