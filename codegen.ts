import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents, and the persisted-operation list (persisted-documents.json),
// for the operations the tests and the demo page use. Generated on demand and
// never committed: `npm run codegen` (npm test and typecheck run it, so an
// operation that no longer fits schema.graphql fails them).
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/support/operations.ts', 'public/app.js'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        scalars: { DateTime: 'string', JSON: 'unknown', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
