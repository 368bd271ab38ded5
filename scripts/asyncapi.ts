/**
 * Writes `docs/asyncapi.yaml` from the contract (`npm run docs:asyncapi`). A unit test fails when
 * the committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { asyncApiDocument } from '../src/contract/asyncapi.js';
import { clientEvents, serverEvents } from '../src/contract/index.js';

export const ASYNCAPI_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../docs/asyncapi.yaml');

const HEADER = '# Generated from src/contract/ by `npm run docs:asyncapi`; do not edit by hand.\n';

/** The document as YAML, as the committed file must read. */
export function asyncApiYaml(): string {
  return HEADER + stringify(asyncApiDocument(clientEvents, serverEvents), { lineWidth: 0, aliasDuplicateObjects: false });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(ASYNCAPI_PATH, asyncApiYaml());
  console.log(`wrote ${ASYNCAPI_PATH}`);
}
