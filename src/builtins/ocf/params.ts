import { ConfigError } from '../../errors.js';
import type { OcfMetadata } from './metadata.js';

const TRUE = ['1', 'true', 'yes', 'y', 'on'];
const FALSE = ['0', 'false', 'no', 'n', 'off'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a resource's `params` against its agent's meta-data and returns them as the text the
 * agent will see in `OCF_RESKEY_<name>`. Throws `ConfigError` naming `params.<name>` for an
 * unknown parameter (listing the known ones), a missing required one, or a value that is not of
 * the advertised type: `integer` (an integer, or its decimal text), `boolean` (true/false, or
 * yes/no, on/off, 1/0 as Pacemaker reads them), `select` (one of the advertised options);
 * `string` and other types take any string, number or boolean.
 */
export function checkParams(params: unknown, meta: OcfMetadata, agent: string): Record<string, string> {
  if (params === undefined) params = {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ConfigError('params', params, `must be an object of ${agent}'s parameters (name: value)`);
  }
  const known = new Map(meta.parameters.map((p) => [p.name, p]));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    const field = `params.${name}`;
    const spec = known.get(name);
    if (!spec) {
      const names = [...known.keys()];
      throw new ConfigError(field, value, `is not a parameter of agent ${agent} (${names.length > 0 ? `known: ${names.join(', ')}` : 'it advertises none'}; see resmon ocf info ${agent})`);
    }
    if (!NAME.test(name)) throw new ConfigError(field, value, 'cannot be passed as an environment variable (letters, digits and _ only)');
    if (value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(field, value, `must be a ${spec.type} (a string, number or boolean)`);
    }
    const text = String(value);
    switch (spec.type) {
      case 'integer':
        if (typeof value === 'boolean' || (typeof value === 'number' ? !Number.isInteger(value) : !/^\s*[+-]?\d+\s*$/.test(value))) {
          throw new ConfigError(field, value, `must be an integer (agent ${agent} declares it integer)`);
        }
        out[name] = text.trim();
        break;
      case 'boolean':
        if (typeof value === 'number' ? value !== 0 && value !== 1 : typeof value === 'string' && ![...TRUE, ...FALSE].includes(value.trim().toLowerCase())) {
          throw new ConfigError(field, value, `must be a boolean: true or false (also yes/no, on/off, 1/0; agent ${agent} declares it boolean)`);
        }
        out[name] = typeof value === 'boolean' ? (value ? 'true' : 'false') : text.trim();
        break;
      case 'select':
        if (spec.options && !spec.options.includes(text)) {
          throw new ConfigError(field, value, `must be one of ${spec.options.join(', ')} (agent ${agent})`);
        }
        out[name] = text;
        break;
      default:
        out[name] = text;
    }
  }
  const missing = meta.parameters.filter((p) => p.required && out[p.name] === undefined);
  if (missing.length > 0) {
    const first = missing[0]!;
    throw new ConfigError(
      `params.${first.name}`,
      undefined,
      `is required by agent ${agent}${missing.length > 1 ? ` (so are ${missing.slice(1).map((p) => p.name).join(', ')})` : ''}: ${first.shortdesc || 'no description'}`,
    );
  }
  return out;
}
