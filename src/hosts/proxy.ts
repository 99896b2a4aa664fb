import { reasonOf } from '../errors.js';
import type { EntryPoint, ResourceContext, ResourceType, TypeControlContext } from '../types.js';
import type { CallArgs, TypeInfo } from './protocol.js';

type Ctx = ResourceContext<unknown, unknown>;

/**
 * The monitor-side stand-in of a hosted type: the same name, defaults and entry points as the
 * plugin, each of which calls the plugin in its host. `validate` here only checks that the
 * properties can cross into a host; the plugin's own `validate` runs in the host, before the
 * resource's first call there (a rejection fails that call with a `ConfigError`).
 */
export function hostedProxy(
  info: TypeInfo,
  call: (ctx: Ctx, entryPoint: EntryPoint, args?: CallArgs) => Promise<unknown>,
  typeCall: (code: string, input: unknown, ctx: TypeControlContext) => Promise<unknown>,
): ResourceType<unknown, unknown> {
  const type: {
    -readonly [K in keyof ResourceType<unknown, unknown>]: ResourceType<unknown, unknown>[K];
  } = {
    name: info.name,
    validate: (properties: unknown) => {
      try {
        structuredClone(properties);
      } catch (error) {
        throw new Error(`they must be structured-cloneable to reach a ${'host'} (${reasonOf(error)})`);
      }
      return properties;
    },
    online: (ctx) => call(ctx, 'online') as Promise<void>,
    offline: (ctx) => call(ctx, 'offline') as Promise<void>,
    terminate: (ctx) => call(ctx, 'terminate') as Promise<void>,
    isAlive: (ctx) => call(ctx, 'isAlive') as Promise<boolean>,
  };
  if (info.defaults) type.defaults = info.defaults;
  // The handle stays in the host: the monitor side sees `undefined`.
  if (info.has.open) type.open = (ctx) => call(ctx as Ctx, 'open') as Promise<undefined>;
  if (info.has.looksAlive) type.looksAlive = (ctx) => call(ctx, 'looksAlive') as Promise<boolean>;
  if (info.has.close) type.close = (ctx) => call(ctx, 'close') as Promise<void>;
  if (info.has.applyProperties) type.applyProperties = (ctx, next) => call(ctx, 'applyProperties', { next }) as Promise<void | 'stored'>;
  if (info.has.control) type.control = (ctx, code, input) => call(ctx, 'control', { code, input });
  if (info.has.typeControl) type.typeControl = (code, input, ctx) => typeCall(code, input, ctx);
  if (info.reportsFailures) type.reportsFailures = true;
  return type;
}
