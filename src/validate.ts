import { ConfigError } from './errors.js';
import { validatePolicy } from './policy.js';
import type { ResourceType } from './types.js';

const REQUIRED = ['online', 'offline', 'terminate', 'isAlive'] as const;
const OPTIONAL = ['validate', 'defaultsFor', 'open', 'looksAlive', 'close'] as const;

/**
 * Checks that `type` is a usable resource type: a non-empty `name`, the four required entry
 * points, optional ones that are functions, and valid `defaults`. Throws `ConfigError` naming
 * the member at fault.
 */
export function validateResourceType<P, H>(type: ResourceType<P, H>): ResourceType<P, H> {
  const context = 'registerType()';
  if (typeof type !== 'object' || type === null) {
    throw new ConfigError('type', type, 'must be a resource type object (name, online, offline, terminate, isAlive)', { context });
  }
  const record = type as unknown as Record<string, unknown>;
  if (typeof record.name !== 'string' || record.name.length === 0) {
    throw new ConfigError('type.name', record.name, 'must be a non-empty string', { context });
  }
  const where = `${context} type "${record.name}"`;
  for (const member of REQUIRED) {
    if (typeof record[member] !== 'function') {
      throw new ConfigError(`type.${member}`, record[member], 'must be a function (a required entry point)', { context: where });
    }
  }
  for (const member of OPTIONAL) {
    if (record[member] !== undefined && typeof record[member] !== 'function') {
      throw new ConfigError(`type.${member}`, record[member], 'must be a function when present', { context: where });
    }
  }
  validatePolicy(record.defaults, where, 'type.defaults');
  return type;
}
