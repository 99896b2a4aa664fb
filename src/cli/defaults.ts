import { isConfigFileError, readConfigFile } from '../config/file.js';
import { checkShape } from '../config/shape.js';
import { serviceDefaults, SERVICE_DEFAULTS } from '../config/service.js';
import { DEFAULT_POLICY, POLICY_FIELDS, type ResourcePolicy } from '../policy.js';
import { parseFlags, SYNOPSIS, UsageError, wantsHelp } from './args.js';

const USAGE = SYNOPSIS.defaults;

/**
 * `resmon defaults [FILE]`: the policy `resmon run` gives a resource that sets nothing, field by
 * field, with the layer each value comes from: `built-in` (the library's Windows defaults),
 * `service` (what resmon run puts under the file) or `file` (the file's `defaults`). A type's
 * own `defaults` and a resource's `policy` come above these.
 */
export async function defaultsMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseFlags(argv, { json: { type: 'boolean' } }, USAGE, [0, 1], 'config file');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`resmon defaults: ${error.message}\n`);
    return 2;
  }
  const file = parsed.positionals[0];
  let fileDefaults: Partial<ResourcePolicy> = {};
  if (file) {
    let parsedFile;
    try {
      parsedFile = await readConfigFile(file);
    } catch (error) {
      if (!isConfigFileError(error)) throw error;
      for (const e of error.errors) process.stderr.write(`${e.message}\n`);
      process.stderr.write(`${file}: ${error.errors.length} error${error.errors.length === 1 ? '' : 's'}\n`);
      return 1;
    }
    const shape = checkShape(parsedFile);
    const bad = shape.errors.filter((e) => e.field.startsWith('defaults'));
    for (const e of bad) process.stderr.write(`${e.message}\n`);
    if (bad.length > 0) return 1;
    fileDefaults = shape.defaults;
  }
  const merged = serviceDefaults(fileDefaults);
  const rows = POLICY_FIELDS.map((field) => {
    const own = Object.hasOwn(fileDefaults, field);
    const service = Object.hasOwn(SERVICE_DEFAULTS, field) || Object.hasOwn(merged, field);
    const value = own ? fileDefaults[field] : service && merged[field] !== undefined ? merged[field] : DEFAULT_POLICY[field];
    const from = own ? `file (${file})` : Object.hasOwn(merged, field) ? 'service (resmon run)' : 'built-in';
    return { field, value, from, builtIn: DEFAULT_POLICY[field] };
  });
  if (parsed.flags.json) {
    process.stdout.write(`${JSON.stringify(rows, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v), 2)}\n`);
    return 0;
  }
  const show = (v: unknown) => (typeof v === 'string' ? v : String(v));
  const w = [Math.max(5, ...rows.map((r) => r.field.length)), Math.max(5, ...rows.map((r) => show(r.value).length)), Math.max(4, ...rows.map((r) => r.from.length))];
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${c.padEnd(w[2]!)}  ${d}`.trimEnd();
  process.stdout.write(`${[line('FIELD', 'VALUE', 'FROM', 'LIBRARY DEFAULT'), ...rows.map((r) => line(r.field, show(r.value), r.from, show(r.builtIn)))].join('\n')}\n`);
  process.stdout.write(
    "\nLayers, most specific first: a resource's policy, its type's defaults, the file's defaults, resmon run's service defaults, the library's built-in defaults.\n",
  );
  return 0;
}
