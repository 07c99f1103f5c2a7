import { GraphQLError } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.js';

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

/** An upload as the multipart parser hands it over; anything else (a string, a number, an object) is not a file. */
const isUpload = (value: unknown): value is File =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Partial<File>).name === 'string' &&
  typeof (value as Partial<File>).arrayBuffer === 'function';

const notAFile = () => new GraphQLError('File expects a file sent with the GraphQL multipart request.');

builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request spec.',
  serialize: () => {
    throw new Error('File is an input-only scalar');
  },
  parseValue: (value) => {
    if (isUpload(value)) return value;
    throw notAFile();
  },
  parseLiteral: () => {
    throw notAFile();
  },
});
