/**
 * Configuration as one descriptor table per component (broker, producer, consumer), as Kafka's
 * ConfigDef: each option is declared once with its camelCase key, Kafka's dotted name, its
 * default and a parser that validates it. Options may be given under either name, as JS values
 * or as strings from a properties file. A wrong value is a ConfigError naming the key; an unknown
 * key is a logged warning, never silently used.
 */
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

export interface OptionDescriptor<T> {
  /** Kafka's name for the option, e.g. 'linger.ms'. */
  readonly kafkaName: string;
  readonly default: T;
  /** Turns a JS value or a properties-file string into T; throws ConfigError naming `key`. */
  readonly parse: (value: unknown, key: string) => T;
  readonly doc: string;
}

export type ConfigTable<T> = { readonly [K in keyof T]: OptionDescriptor<T[K]> };

/**
 * Resolves `input` (camelCase or dotted keys) against `table`. Keys in `ignore` are someone
 * else's (say, CLI flags handled elsewhere) and are neither used nor warned about.
 */
export function resolveConfig<T>(
  table: ConfigTable<T>,
  input: Readonly<Record<string, unknown>>,
  options: { logger?: Logger; component: string; ignore?: readonly string[] },
): T {
  const byKafkaName = new Map<string, keyof T>();
  for (const key of Object.keys(table) as (keyof T & string)[]) byKafkaName.set(table[key].kafkaName, key);
  const given = new Map<keyof T, { name: string; value: unknown }>();
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || options.ignore?.includes(name)) continue;
    const key = (Object.hasOwn(table, name) ? name : byKafkaName.get(name)) as keyof T | undefined;
    if (key === undefined) {
      options.logger?.warn({ component: options.component, key: name }, `unknown ${options.component} option '${name}' ignored`);
      continue;
    }
    const earlier = given.get(key);
    if (earlier !== undefined && !Object.is(earlier.value, value)) {
      throw new ConfigError(name, `given twice, as '${earlier.name}' (${String(earlier.value)}) and as '${name}' (${String(value)})`);
    }
    given.set(key, { name, value });
  }
  const resolved = {} as T;
  for (const key of Object.keys(table) as (keyof T & string)[]) {
    const descriptor = table[key];
    const entry = given.get(key);
    resolved[key] = entry === undefined ? descriptor.default : descriptor.parse(entry.value, entry.name);
  }
  return resolved;
}

// Parsers. Each accepts the JS type itself or its string form (from a properties file or a flag).

function integerFrom(value: unknown, key: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new ConfigError(key, `must be an integer, got ${describe(value)}`);
  return n;
}

/** An integer within [min, max]. Kafka's Long.MAX_VALUE defaults become Number.MAX_SAFE_INTEGER. */
export function int(options: { min?: number; max?: number } = {}): (value: unknown, key: string) => number {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return (value, key) => {
    const n = integerFrom(value, key);
    if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function bool(): (value: unknown, key: string) => boolean {
  return (value, key) => {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
    throw new ConfigError(key, `must be true or false, got ${describe(value)}`);
  };
}

export function str(options: { nonEmpty?: boolean } = {}): (value: unknown, key: string) => string {
  return (value, key) => {
    if (typeof value !== 'string') throw new ConfigError(key, `must be a string, got ${describe(value)}`);
    if (options.nonEmpty && value.trim() === '') throw new ConfigError(key, 'must not be empty');
    return value;
  };
}

export function oneOf<const V extends string>(values: readonly V[]): (value: unknown, key: string) => V {
  return (value, key) => {
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !values.includes(text.trim() as V)) {
      throw new ConfigError(key, `must be one of ${values.join(', ')}, got ${describe(value)}`);
    }
    return text.trim() as V;
  };
}

/** A list: a JS array of strings, or a comma-separated string. */
export function list(options: { nonEmpty?: boolean } = {}): (value: unknown, key: string) => string[] {
  return (value, key) => {
    const items = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : value;
    if (!Array.isArray(items) || !items.every((s) => typeof s === 'string')) {
      throw new ConfigError(key, `must be a list of strings, got ${describe(value)}`);
    }
    if (options.nonEmpty && items.length === 0) throw new ConfigError(key, 'must not be empty');
    return items;
  };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value);
}

/**
 * Parses the text of a Java .properties file (java.util.Properties.load): `#` and `!` comments,
 * `key=value`, `key: value` or `key value`, backslash line continuations, and the escapes
 * \t \n \r \f, \u with four hex digits, and \<char>. A later duplicate key wins, as in Java.
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // Join continuation lines: an odd number of trailing backslashes continues the line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    let keyEnd = 0;
    while (keyEnd < line.length && !/[=: \t\f]/.test(line[keyEnd]!)) keyEnd += line[keyEnd] === '\\' ? 2 : 1;
    const key = unescapeProperty(line.slice(0, keyEnd));
    let rest = line.slice(keyEnd).replace(/^[ \t\f]*/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    result.set(key, unescapeProperty(rest));
  }
  return result;
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, esc: string) => {
    if (esc.length === 5) return String.fromCharCode(parseInt(esc.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[esc] ?? esc;
  });
}
