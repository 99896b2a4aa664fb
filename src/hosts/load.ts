import { ConfigError } from '../errors.js';
import type { ResourceType } from '../types.js';
import { validateResourceType } from '../validate.js';

/**
 * Imports a type module and returns its export `exportName`, checked as a resource type. A
 * CommonJS module's `module.exports` arrives as `default`; its properties count as named exports.
 */
export async function loadTypeExport(specifier: string, exportName: string): Promise<ResourceType<unknown, unknown>> {
  const mod = (await import(specifier)) as Record<string, unknown>;
  let type = mod[exportName];
  if (type === undefined && exportName !== 'default' && typeof mod.default === 'object' && mod.default !== null) {
    type = (mod.default as Record<string, unknown>)[exportName];
  }
  if (type === undefined) {
    const names = Object.keys(mod).join(', ') || 'none';
    throw new ConfigError('exportName', exportName, `is not exported by ${specifier} (its exports: ${names})`, { context: 'registerType()' });
  }
  return validateResourceType(type as ResourceType<unknown, unknown>);
}
