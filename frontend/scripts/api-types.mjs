// The dashboard's API types, generated from the committed OpenAPI document with openapi-typescript.
//
//   npm run gen:api-types            rewrite src/api/generated/openapi.ts
//   npm run gen:api-types -- --check  exit 1 when that file is stale (a Vitest test runs this)
//
// One adjustment before generating: the server serialises every field of a response model (a
// default or a null included), but the document lists fields with defaults as optional. Schemas
// reached only from responses get every property marked required; schemas a request can carry
// (request bodies, parameters) are left as documented.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SPEC = resolve(FRONTEND, '../deploy/openapi/backend-api.yaml');
export const OUTPUT = resolve(FRONTEND, 'src/api/generated/openapi.ts');
const REF = '#/components/schemas/';

/** Names of the component schemas reachable from `roots` through `$ref`s. */
function reachable(roots, schemas) {
  const seen = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(REF)) {
        const name = value.slice(REF.length);
        if (!seen.has(name)) {
          seen.add(name);
          walk(schemas[name]);
        }
      } else {
        walk(value);
      }
    }
  };
  walk(roots);
  return seen;
}

/** The document with every property of response-only schemas required. */
export function responsesAsServed(document) {
  const doc = structuredClone(document);
  const schemas = doc.components?.schemas ?? {};
  const operations = Object.values(doc.paths ?? {}).flatMap((item) => Object.values(item));
  const requests = reachable(
    operations.map((op) => [op.requestBody, op.parameters]),
    schemas,
  );
  const responses = reachable(
    operations.map((op) => op.responses),
    schemas,
  );
  for (const name of responses) {
    const schema = schemas[name];
    if (requests.has(name) || !schema?.properties) continue;
    schema.required = Object.keys(schema.properties);
  }
  return doc;
}

/** The TypeScript module for the document at `spec`. */
export async function generate(spec = SPEC) {
  const document = responsesAsServed(yaml.load(readFileSync(spec, 'utf8')));
  const ast = await openapiTS(document, { alphabetize: false, exportType: false, defaultNonNullable: false });
  const banner =
    '// Generated from deploy/openapi/backend-api.yaml by `npm run gen:api-types`; do not edit.\n';
  return COMMENT_HEADER + banner + astToString(ast);
}

async function main() {
  const { values } = parseArgs({
    options: { check: { type: 'boolean', default: false }, input: { type: 'string' } },
  });
  const generated = await generate(values.input ? resolve(values.input) : SPEC);
  if (!values.check) {
    writeFileSync(OUTPUT, generated);
    return;
  }
  let committed = '';
  try {
    committed = readFileSync(OUTPUT, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== generated) {
    process.stderr.write(
      'src/api/generated/openapi.ts is stale: run `npm run gen:api-types` in frontend/\n',
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
