#!/usr/bin/env node
// Generates src/shared/protocol/schemas.generated.ts from Kafka's JSON message schemas in
// ../shared/kafka-protocol/ (relative to the repository). Run by hand after the schemas change:
//
//   node scripts/gen-protocol.mjs [schema-dir]
//
// The output is a declarative table (see src/shared/protocol/schema.ts); the codec compiles it at
// run time, so nothing reads the JSON files after generation.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = resolve(process.argv[2] ?? join(repoRoot, '..', 'shared', 'kafka-protocol'));
const outFile = join(repoRoot, 'src', 'shared', 'protocol', 'schemas.generated.ts');

const OPEN_VERSION = 0x7fff;
const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid']);
const KINDS = new Set(['request', 'response', 'header', 'data']);

/** "JSON with comments": only whole-line `//` comments occur; strings may hold "//" (URLs). */
function readSchema(file) {
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  return JSON.parse(text);
}

/** "3+" → [3, OPEN], "0-7" → [0, 7], "5" → [5, 5], "none" → null. */
function parseRange(text, where) {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  let m = /^(\d+)\+$/.exec(text);
  if (m) return [Number(m[1]), OPEN_VERSION];
  m = /^(\d+)-(\d+)$/.exec(text);
  if (m) return [Number(m[1]), Number(m[2])];
  m = /^(\d+)$/.exec(text);
  if (m) return [Number(m[1]), Number(m[1])];
  throw new Error(`${where}: bad version range ${JSON.stringify(text)}`);
}

const overlaps = (a, b) => a !== null && b !== null && a[0] <= b[1] && b[0] <= a[1];
const within = (inner, outer) => outer !== null && inner[0] >= outer[0] && inner[1] <= outer[1];

/** Kafka's generator lower-cases the first letter of a field name (FieldSpec.camelCaseName). */
const camelCase = (name) => name.charAt(0).toLowerCase() + name.slice(1);

function parseDefault(type, text, where) {
  if (text === undefined) return undefined;
  const raw = String(text);
  if (raw === 'null') {
    if (type === 'string' || type === 'bytes' || type === 'records' || type === 'array') return null;
    throw new Error(`${where}: default null on ${type}`);
  }
  switch (type) {
    case 'bool':
      if (raw !== 'true' && raw !== 'false') throw new Error(`${where}: bad bool default ${raw}`);
      return raw === 'true';
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      const n = Number(raw); // handles "0x7fffffff"
      if (!Number.isInteger(n)) throw new Error(`${where}: bad integer default ${raw}`);
      return n;
    }
    case 'int64':
      return BigInt(raw);
    case 'float64':
      return Number(raw);
    case 'string':
      return raw;
    default:
      throw new Error(`${where}: a default on a ${type} field is not supported`);
  }
}

function convertFields(fields, ctx, path) {
  const names = new Set();
  const tags = new Set();
  return fields.map((f) => {
    const where = `${ctx.file}: ${path}${f.name}`;
    const out = { name: camelCase(f.name) };
    if (names.has(out.name)) throw new Error(`${where}: duplicate field name`);
    names.add(out.name);

    let type = f.type;
    const isArray = type.startsWith('[]');
    if (isArray) type = type.slice(2);
    let nested = f.fields;
    if (!PRIMITIVES.has(type) && nested === undefined) {
      nested = ctx.commonStructs.get(type)?.fields;
      if (nested === undefined) throw new Error(`${where}: unknown type ${f.type}`);
    }
    if (isArray) {
      out.type = 'array';
      out.items = PRIMITIVES.has(type) ? type : 'struct';
    } else {
      out.type = PRIMITIVES.has(type) ? type : 'struct';
    }
    if (!PRIMITIVES.has(type)) out.structName = type;

    out.versions = parseRange(f.versions, where);
    if (out.versions === null || out.versions === undefined) throw new Error(`${where}: no versions`);

    const nullable = parseRange(f.nullableVersions, where);
    if (nullable) {
      if (!['string', 'bytes', 'records', 'array'].includes(out.type)) throw new Error(`${where}: nullable ${out.type} is not supported`);
      out.nullableVersions = nullable;
    }
    if (f.tag !== undefined) {
      const tagged = parseRange(f.taggedVersions, where);
      if (!tagged) throw new Error(`${where}: tag without taggedVersions`);
      if (!within(tagged, ctx.flexibleVersions)) throw new Error(`${where}: tagged outside the flexible versions`);
      if (tags.has(f.tag)) throw new Error(`${where}: duplicate tag ${f.tag}`);
      tags.add(f.tag);
      out.tag = f.tag;
      out.taggedVersions = tagged;
    } else if (f.taggedVersions !== undefined) {
      throw new Error(`${where}: taggedVersions without tag`);
    }
    if (f.flexibleVersions !== undefined) {
      if (!['string', 'bytes', 'records', 'array'].includes(out.type)) throw new Error(`${where}: flexibleVersions on ${out.type}`);
      out.flexibleVersions = parseRange(f.flexibleVersions, where);
    }
    const dflt = parseDefault(out.type, f.default, where);
    if (dflt !== undefined) {
      if (dflt === null && !(nullable && within(out.versions, nullable))) {
        // Kafka requires a null default to be nullable in every version of the field.
        throw new Error(`${where}: default null but not nullable in all versions`);
      }
      out.default = dflt;
    }
    if (nested !== undefined) {
      if (PRIMITIVES.has(type)) throw new Error(`${where}: fields on a primitive`);
      out.fields = convertFields(nested, ctx, `${path}${f.name}.`);
    }
    return out;
  });
}

function convertMessage(file) {
  const json = readSchema(join(schemaDir, file));
  const where = file;
  if (!KINDS.has(json.type)) throw new Error(`${where}: unknown message type ${json.type}`);
  const validVersions = parseRange(json.validVersions, where);
  const flexibleVersions = parseRange(json.flexibleVersions, where) ?? null;
  if (flexibleVersions !== null && !overlaps(flexibleVersions, validVersions)) throw new Error(`${where}: flexibleVersions outside validVersions`);
  if (json.latestVersionUnstable === true) throw new Error(`${where}: latestVersionUnstable is not handled`);
  const commonStructs = new Map((json.commonStructs ?? []).map((s) => [s.name, s]));
  const msg = { name: json.name, kind: json.type };
  if (json.apiKey !== undefined) msg.apiKey = json.apiKey;
  msg.validVersions = validVersions;
  msg.flexibleVersions = flexibleVersions;
  const deprecated = parseRange(json.deprecatedVersions, where);
  if (deprecated) msg.deprecatedVersions = deprecated;
  msg.fields = convertFields(json.fields, { file, flexibleVersions, commonStructs }, '');
  return msg;
}

// ---- emit ----

const range = (r) => (r === null ? 'null' : `[${r[0]}, ${r[1] === OPEN_VERSION ? 'OPEN' : r[1]}]`);

function literal(v) {
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v);
}

function emitFields(fields, indent) {
  const lines = [];
  for (const f of fields) {
    const parts = [`name: '${f.name}'`, `type: '${f.type}'`];
    if (f.items) parts.push(`items: '${f.items}'`);
    if (f.structName) parts.push(`structName: '${f.structName}'`);
    parts.push(`versions: ${range(f.versions)}`);
    if (f.nullableVersions) parts.push(`nullableVersions: ${range(f.nullableVersions)}`);
    if (f.tag !== undefined) parts.push(`tag: ${f.tag}`, `taggedVersions: ${range(f.taggedVersions)}`);
    if (f.flexibleVersions !== undefined) parts.push(`flexibleVersions: ${range(f.flexibleVersions)}`);
    if (f.default !== undefined) parts.push(`default: ${literal(f.default)}`);
    if (f.fields) {
      lines.push(`${indent}{ ${parts.join(', ')}, fields: [`);
      lines.push(...emitFields(f.fields, indent + '  '));
      lines.push(`${indent}] },`);
    } else {
      lines.push(`${indent}{ ${parts.join(', ')} },`);
    }
  }
  return lines;
}

function emitMessage(m) {
  const parts = [`name: '${m.name}'`, `kind: '${m.kind}'`];
  if (m.apiKey !== undefined) parts.push(`apiKey: ${m.apiKey}`);
  parts.push(`validVersions: ${range(m.validVersions)}`, `flexibleVersions: ${range(m.flexibleVersions)}`);
  if (m.deprecatedVersions) parts.push(`deprecatedVersions: ${range(m.deprecatedVersions)}`);
  return [`  {`, `    ${parts.join(', ')},`, `    fields: [`, ...emitFields(m.fields, '      '), `    ],`, `  },`];
}

const source = readFileSync(join(schemaDir, 'SOURCE.md'), 'utf8');
const commit = /Commit: `([0-9a-f]{40})`/.exec(source)?.[1];
if (commit === undefined) throw new Error('SOURCE.md names no commit');

const kindOrder = { request: 0, response: 1, header: 2, data: 3 };
const messages = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.json'))
  .map(convertMessage)
  .sort((a, b) => (a.apiKey ?? 1e9) - (b.apiKey ?? 1e9) || kindOrder[a.kind] - kindOrder[b.kind] || a.name.localeCompare(b.name));

/** "ListOffsetsRequest" → "LIST_OFFSETS", as Kafka's ApiKeys enum names it. */
const apiConstant = (requestName) => requestName.replace(/Request$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const apiKeyLines = messages
  .filter((m) => m.kind === 'request')
  .map((m) => `  ${apiConstant(m.name)}: ${m.apiKey},`);

const out = [
  '// GENERATED by scripts/gen-protocol.mjs: do not edit by hand; run `node scripts/gen-protocol.mjs`.',
  '//',
  "// Derived from Apache Kafka's protocol message schemas (clients/src/main/resources/common/message/)",
  `// at https://github.com/apache/kafka commit ${commit}.`,
  '// Those schemas are Copyright The Apache Software Foundation, licensed under the Apache License,',
  '// Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0); this table is a derived work under',
  '// the same license. Field names are camelCased; version ranges are [min, max], OPEN meaning "+".',
  "import { OPEN_VERSION as OPEN, type MessageSchema } from './schema.js';",
  '',
  `export const SCHEMA_COMMIT = '${commit}';`,
  '',
  'export const MESSAGE_SCHEMAS: readonly MessageSchema[] = [',
  ...messages.flatMap(emitMessage),
  '];',
  '',
  "/** The API keys of the messages above, named as in Kafka's ApiKeys enum. */",
  'export const ApiKeys = {',
  ...apiKeyLines,
  '} as const;',
  '',
];
writeFileSync(outFile, out.join('\n'));
console.log(`wrote ${messages.length} message schemas to ${outFile}`);
