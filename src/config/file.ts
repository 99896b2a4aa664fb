import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, describeValue, isResmonError, ResmonError } from '../errors.js';

/** A path inside a config file: `['resources', 2, 'policy', 'restartDelay']`. */
export type ConfigPath = readonly (string | number)[];

/** `resources[2].policy.restartDelay`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${key}` : key;
  return out;
}

/** The inverse of {@link formatPath}: `readiness.tcp.port` or `args[1]` as a path. */
export function parsePath(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of field.split('.')) {
    const match = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) {
      out.push(part);
      continue;
    }
    if (match[1]) out.push(match[1]);
    for (const index of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/**
 * The rule of a ConfigError, without its context, field and value: what is left of
 * `context: field rule (got value)`.
 */
export function ruleOf(error: ConfigError): string {
  let text = error.message;
  const at = text.indexOf(`${error.field} `);
  if (at >= 0) text = text.slice(at + error.field.length + 1);
  const got = ` (got ${describeValue(error.value)})`;
  if (text.endsWith(got)) text = text.slice(0, -got.length);
  return text;
}

/**
 * Everything wrong with a config file: each error names the file, the path inside it and the
 * rule. Match it with {@link isConfigFileError} (works across two copies of the package) or its `code`.
 */
export class ConfigFileError extends ResmonError {
  override readonly code = 'ERR_RESMON_CONFIG_FILE';
  /** One ConfigError per problem, in file order. */
  readonly errors: ConfigError[];
  /** What may go wrong but need not (a command not on PATH), in file order. */
  readonly warnings: ConfigError[];
  constructor(file: string, errors: ConfigError[], warnings: ConfigError[] = []) {
    super(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.errors = errors;
    this.warnings = warnings;
  }
}

/** True for a {@link ConfigFileError}, from any copy of the package. */
export const isConfigFileError = (error: unknown): error is ConfigFileError =>
  isResmonError(error) && error.code === 'ERR_RESMON_CONFIG_FILE';

/** A warning's line: `file:line:col: warning: path rule (got value)`. */
export function warningLine(warning: ConfigError): string {
  const match = /^(.*?:\d+:\d+: )/.exec(warning.message) ?? /^([^:]*: )/.exec(warning.message);
  return match ? `${match[1]}warning: ${warning.message.slice(match[1]!.length)}` : `warning: ${warning.message}`;
}

/** A parsed config file, and a way to point at a path inside it. */
export interface ParsedFile {
  /** The file as the user named it (for messages). */
  readonly file: string;
  /** Its content as plain data. */
  readonly data: unknown;
  /** A ConfigError at `path` in this file: `file:line:col: path rule (got value)`. */
  error(path: ConfigPath, value: unknown, rule: string, cause?: unknown): ConfigError;
}

/**
 * Reads and parses a YAML or JSON config file (JSON is YAML). Throws `ConfigFileError` when the
 * file cannot be read or is not valid YAML, naming the line.
 */
export async function readConfigFile(file: string): Promise<ParsedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigFileError(file, [new ConfigError('the config file', file, `cannot be read (${reason})`, { context: file })]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        const line = text.split('\n')[pos.line - 1] ?? '';
        return new ConfigError(`line ${pos.line}`, line.trim(), `is not valid YAML or JSON: ${e.message.split('\n')[0]}`, {
          context: `${file}:${pos.line}:${pos.col}`,
        });
      }),
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  return {
    file,
    data,
    error: (path, value, rule, cause) => {
      const pos = locate(doc, lines, path);
      return new ConfigError(formatPath(path) || 'the file', value, rule, { context: pos ? `${file}:${pos.line}:${pos.col}` : file, cause });
    },
  };
}

/** The line and column of the deepest node along `path` that exists. */
function locate(doc: Document, lines: LineCounter, path: ConfigPath): { line: number; col: number } | null {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node && (depth === 0 || node.range) && node.range) return lines.linePos(node.range[0]);
    if (depth > 0) {
      // A key whose value is null has no node: point at the key in its parent map.
      const parent = doc.getIn(path.slice(0, depth - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === path[depth - 1]);
        const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
        if (range) return lines.linePos(range[0]);
      } else if (isSeq(parent)) {
        continue;
      }
    }
  }
  return null;
}
