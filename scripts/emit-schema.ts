import { writeFileSync } from 'node:fs';
import { printGatewaySchema } from '../src/graphql/schema.js';

// The schema is emitted from the code; schema.graphql is its committed copy.
writeFileSync(new URL('../schema.graphql', import.meta.url), printGatewaySchema());
console.log('wrote schema.graphql');
