import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeValue } from '../errors.js';
import type { ConformanceOptions } from '../testing/options.js';
import { verifyResourceType } from '../testing/verify.js';
import { formatReport } from '../testing/report.js';
import type { ResourceType } from '../types.js';
import { type CommandIo, defaultIo, printError, printHelp, withUsage } from './args.js';

const isType = (value: unknown): value is ResourceType =>
  typeof value === 'object' && value !== null && typeof (value as ResourceType).name === 'string' && typeof (value as ResourceType).online === 'function';

/**
 * `resmon verify-type ./my-type.js --properties props.json`: loads a resource type from a module
 * (its default export, the export named by `--export`, or its only export that is a resource
 * type), runs the conformance suite against it and prints the report (`--json`: the report as
 * JSON). An object the module exports as `conformanceOptions` is the suite's options
 * (`changedProperties`, `refusedProperties`, `controlCodes`, `breakResource`, `limits`, `policy`…:
 * everything `verifyResourceType` takes); `--properties` overrides its `properties`, and a function
 * exported as `breakResource` is the hook when the options have none. Resolves with the exit code:
 * 0 all cases passed, 1 a case failed, 2 bad usage or a module, export, options or properties file
 * that cannot be used.
 */
export async function verifyTypeMain(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: { export: { type: 'string' }; properties: { type: 'string' }; json: { type: 'boolean' }; help: { type: 'boolean'; short: 'h' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { export: { type: 'string' }, properties: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    return printError(io, 'verify-type', withUsage('verify-type', (error as Error).message));
  }
  if (parsed.values.help) {
    return printHelp(io, 'verify-type', 'Runs the resmon conformance suite (resmon/testing) against a resource type and prints the report.');
  }
  if (parsed.positionals.length !== 1) {
    return printError(io, 'verify-type', withUsage('verify-type', `expected one module, got ${parsed.positionals.length}`));
  }
  const file = resolve(parsed.positionals[0] as string);
  let mod: Record<string, unknown>;
  if (/\.[cm]?tsx?$/.test(file)) {
    // TypeScript: load it through tsx (an optional peer dependency) when it is installed.
    try {
      const { register } = await import('tsx/esm/api');
      register();
    } catch {
      return printError(
        io,
        'verify-type',
        `${file} is TypeScript: install tsx (npm install --save-dev tsx) so that resmon can load it, or compile it to JavaScript first`,
      );
    }
  }
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    return printError(io, 'verify-type', `cannot load ${file}: ${(error as Error).message}`);
  }
  const wanted = parsed.values.export;
  let type: unknown;
  if (wanted !== undefined) {
    type = mod[wanted];
    if (!isType(type)) {
      return printError(io, 'verify-type', `${file} has no resource type exported as "${wanted}" (exports: ${Object.keys(mod).join(', ') || 'none'})`);
    }
  } else {
    const candidates = Object.entries(mod).filter(([, v]) => isType(v));
    const byDefault = isType(mod.default) ? mod.default : undefined;
    type = byDefault ?? (candidates.length === 1 ? candidates[0]?.[1] : undefined);
    if (!type) {
      const found = candidates.length === 0 ? 'no resource type export' : `several resource types (${candidates.map(([k]) => k).join(', ')})`;
      return printError(io, 'verify-type', `${file} has ${found}; name one with --export <name>`);
    }
  }
  let properties: unknown = {};
  if (parsed.values.properties !== undefined) {
    const path = resolve(parsed.values.properties);
    try {
      properties = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      return printError(io, 'verify-type', `cannot read the properties file ${path}: ${(error as Error).message}`);
    }
  }
  let report: Awaited<ReturnType<typeof verifyResourceType>>;
  try {
    const given = mod.conformanceOptions;
    if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
      return printError(io, 'verify-type', `${file} exports conformanceOptions as ${describeValue(given)}; it must be an object of options for verifyResourceType()`);
    }
    const options: ConformanceOptions = { ...(given as ConformanceOptions | undefined) };
    if (parsed.values.properties !== undefined || options.properties === undefined) options.properties = properties;
    if (options.breakResource === undefined && typeof mod.breakResource === 'function') {
      options.breakResource = mod.breakResource as (handle: unknown, properties: unknown) => void;
    }
    report = await verifyResourceType(type as ResourceType, options);
  } catch (error) {
    return printError(io, 'verify-type', `${(error as Error).message}`);
  }
  io.out(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  return report.passed ? 0 : 1;
}
