import { ConfigError, reasonOf } from './errors.js';
import { type ResourcePolicy, validatePolicy } from './policy.js';
import type { ResourceType } from './types.js';

const REQUIRED = ['online', 'offline', 'terminate', 'isAlive'] as const;
const OPTIONAL = ['validate', 'defaultsFor', 'open', 'looksAlive', 'close', 'applyProperties', 'control', 'typeControl'] as const;

/** A checked resource type: the plugin object, and its name and defaults as read once at registration. */
export interface CheckedType<P, H> {
  readonly type: ResourceType<P, H>;
  readonly name: string;
  /** A validated copy of the type's `defaults` (later changes to the plugin's object change nothing). */
  readonly defaults: Partial<ResourcePolicy>;
}

/**
 * Checks that `type` is a usable resource type: a non-empty `name`, the four required entry
 * points, optional ones that are functions, and valid `defaults`. Each member is read once.
 * Throws `ConfigError` naming the member at fault.
 */
export function checkResourceType<P, H>(type: ResourceType<P, H>): CheckedType<P, H> {
  const context = 'registerType()';
  if (typeof type !== 'object' || type === null) {
    throw new ConfigError('type', type, 'must be a resource type object (name, online, offline, terminate, isAlive)', { context });
  }
  const read = (member: string, where: string): unknown => {
    try {
      return (type as unknown as Record<string, unknown>)[member];
    } catch (error) {
      throw new ConfigError(`type.${member}`, undefined, `could not be read: ${reasonOf(error)}`, { context: where, cause: error });
    }
  };
  const name = read('name', context);
  if (typeof name !== 'string' || name.length === 0) {
    throw new ConfigError('type.name', name, 'must be a non-empty string', { context });
  }
  const where = `${context} type "${name}"`;
  for (const member of REQUIRED) {
    const fn = read(member, where);
    if (typeof fn !== 'function') {
      throw new ConfigError(`type.${member}`, fn, 'must be a function (a required entry point)', { context: where });
    }
  }
  for (const member of OPTIONAL) {
    const fn = read(member, where);
    if (fn !== undefined && typeof fn !== 'function') {
      throw new ConfigError(`type.${member}`, fn, 'must be a function when present', { context: where });
    }
  }
  const reportsFailures = read('reportsFailures', where);
  if (reportsFailures !== undefined && typeof reportsFailures !== 'boolean') {
    throw new ConfigError('type.reportsFailures', reportsFailures, 'must be a boolean when present', { context: where });
  }
  const defaults = validatePolicy(read('defaults', where), where, 'type.defaults');
  return { type, name, defaults };
}

/**
 * Checks that `type` is a usable resource type (see {@link checkResourceType}) and returns it.
 * Throws `ConfigError` naming the member at fault.
 */
export function validateResourceType<P, H>(type: ResourceType<P, H>): ResourceType<P, H> {
  return checkResourceType(type).type;
}
