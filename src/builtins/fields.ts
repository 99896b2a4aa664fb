import { ConfigError } from '../errors.js';

/** A plain object read from properties or a config file. */
export type Fields = Record<string, unknown>;

/** `prefix.key`, or `key` at the top. */
export const at = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);

/** The value as a plain object, or a ConfigError naming `field`. */
export function objectAt(value: unknown, field: string, what = 'an object'): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field || 'properties', value, `must be ${what}`);
  }
  return value as Fields;
}

/** Rejects keys of `object` that are not in `known`. */
export function onlyKeys(object: Fields, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new ConfigError(at(prefix, key), object[key], `is not a known field (known: ${known.join(', ')})`);
    }
  }
}

/** A string field; `required` ones must be present and non-empty. */
export function stringAt(object: Fields, key: string, prefix: string, required: true): string;
export function stringAt(object: Fields, key: string, prefix: string, required?: false): string | undefined;
export function stringAt(object: Fields, key: string, prefix: string, required = false): string | undefined {
  const value = object[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(at(prefix, key), value, required ? 'is required: a non-empty string' : 'must be a non-empty string');
  }
  return value;
}

/** A number field within bounds, or `fallback` when absent. */
export function numberAt(
  object: Fields,
  key: string,
  prefix: string,
  fallback: number,
  rule: { min: number; max?: number; integer?: boolean; exclusive?: boolean },
): number {
  const value = object[key];
  if (value === undefined) return fallback;
  const range = `${rule.exclusive ? '>' : '>='} ${rule.min}${rule.max !== undefined ? ` and <= ${rule.max}` : ''}`;
  const text = `must be ${rule.integer ? 'an integer' : 'a finite number'} ${range}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(at(prefix, key), value, text);
  if (rule.integer && !Number.isInteger(value)) throw new ConfigError(at(prefix, key), value, text);
  if (rule.exclusive ? value <= rule.min : value < rule.min) throw new ConfigError(at(prefix, key), value, text);
  if (rule.max !== undefined && value > rule.max) throw new ConfigError(at(prefix, key), value, text);
  return value;
}

/** A TCP port: an integer 1..65535. */
export function portAt(object: Fields, key: string, prefix: string): number {
  if (object[key] === undefined) throw new ConfigError(at(prefix, key), undefined, 'is required: a port number 1..65535');
  return numberAt(object, key, prefix, 0, { min: 1, max: 65_535, integer: true });
}

/** An array of strings, or `[]` when absent. */
export function stringsAt(object: Fields, key: string, prefix: string): string[] {
  const value = object[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(at(prefix, key), value, 'must be an array of strings');
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(`${at(prefix, key)}[${i}]`, item, 'must be a string');
  });
  return value as string[];
}

/** A map of string to string (numbers and booleans are taken as their text, as YAML writes them). */
export function stringMapAt(object: Fields, key: string, prefix: string): Record<string, string> {
  const value = object[key];
  if (value === undefined) return {};
  const map = objectAt(value, at(prefix, key), 'an object of string values');
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(map)) {
    if (name === '__proto__') throw new ConfigError(`${at(prefix, key)}.${name}`, item, 'is not allowed as a name (it would be dropped)');
    if (typeof item === 'string') out[name] = item;
    else if (typeof item === 'number' || typeof item === 'boolean') out[name] = String(item);
    else throw new ConfigError(`${at(prefix, key)}.${name}`, item, 'must be a string');
  }
  return out;
}
