import fc from 'fast-check';
import { type GraphQLArgument, type GraphQLInputType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType } from 'graphql';

/** A file to send in a multipart request; over graphql-ws, where files cannot travel, it is sent as null. */
export interface FuzzFile {
  fuzzFile: { name: string; content: string; type: string };
}

export const isFuzzFile = (value: unknown): value is FuzzFile => typeof value === 'object' && value !== null && 'fuzzFile' in value;

/** Ids the fuzzing caller may pass: its own, and another user's it must never reach. */
export interface KnownIds {
  own: string[];
  others: string[];
}

const controlCharacter = fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code));

/** Text an attacker would send: empty, long, control characters, NUL, lone surrogates, emoji, patterns and markup. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: controlCharacter, minLength: 1, maxLength: 8 }),
  fc.constantFrom(
    '\0',
    'a\0b',
    '\uD800',
    'x\uDFFFy',
    '\uDC00\uD800',
    '🤖👩‍👩‍👧‍👦🏳️‍🌈',
    '\u202Eevil',
    '\uFEFF',
    ' ',
    '%',
    '_',
    '\\',
    "'; DROP TABLE users; --",
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '{{variable}}',
    '*',
    'gpt-4*',
    'fake-a',
  ),
  fc.constantFrom(2_001, 70_000, 300_000).map((length) => 'x'.repeat(length)),
  fc.constantFrom(3_000, 60_000).map((length) => '🤖'.repeat(length)),
  fc.constantFrom(20_000).map((length) => 'word '.repeat(length)),
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -3, max: 60 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 0.5, -0.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 1e21, 1e308, -1e308, 5e-324),
);

const uuid = fc.uuid();
const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** Global ids that are wrong: malformed, of a type that does not exist, of the wrong type for a real row, or not base64 at all. */
function wrongIds(known: KnownIds): fc.Arbitrary<string> {
  const typename = fc.constantFrom('Conversation', 'Message', 'Template', 'UploadedFile', 'Memory', 'BatchJob', 'ApiKey', 'Feedback', 'User', 'Team');
  const rawOf = (id: string) => Buffer.from(id, 'base64url').toString('utf8').split(':').slice(1).join(':');
  return fc.oneof(
    fc.tuple(typename, uuid).map(([type, id]) => base64url(`${type}:${id}`)),
    fc.tuple(typename, hostileText).map(([type, id]) => base64url(`${type}:${id}`)),
    fc.tuple(typename, fc.constantFrom(...known.others, ...known.own)).map(([type, id]) => base64url(`${type}:${rawOf(id)}`)),
    fc.constantFrom(...known.others, ...known.own).map(rawOf),
    fc.constantFrom(base64url('Conversation:'), base64url(':'), base64url('Nope:1'), '====', '!!', '-1', '0', 'null', 'undefined'),
    hostileText,
  );
}

function idArbitrary(known: KnownIds): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known.others) },
    { weight: 2, arbitrary: fc.constantFrom(...known.own) },
    { weight: 3, arbitrary: wrongIds(known) },
  );
}

const dateTime = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom('2026-13-45T00:00:00Z', '', 'yesterday', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '1970-01-01'),
);

const fileArbitrary: fc.Arbitrary<FuzzFile> = fc
  .record({
    name: hostileText,
    content: fc.oneof(fc.string({ maxLength: 200 }), fc.constant('')),
    type: fc.constantFrom('text/plain', 'application/pdf', 'audio/mpeg', 'image/png', '', 'application/x-nope'),
  })
  .map((fuzzFile) => ({ fuzzFile }));

/** Anything at all, for an argument of another type. */
const wrongTyped: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  hostileNumber,
  fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
);

function scalarArbitrary(name: string, known: KnownIds): fc.Arbitrary<unknown> {
  switch (name) {
    case 'String':
      return hostileText;
    case 'Int':
    case 'Float':
      return hostileNumber;
    case 'Boolean':
      return fc.boolean();
    case 'ID':
      return idArbitrary(known);
    case 'DateTime':
      return dateTime;
    case 'JSON':
      return fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(hostileText, hostileText, { maxKeys: 4 }));
    case 'File':
      return fileArbitrary;
    default:
      throw new Error(`no arbitrary for scalar ${name}; add one here`);
  }
}

/** Values for one input type, with hostile contents; with `wrongTypes`, now and then a value of another type altogether. */
export function inputArbitrary(type: GraphQLInputType, known: KnownIds, wrongTypes: boolean, depth = 0): fc.Arbitrary<unknown> {
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  let typed: fc.Arbitrary<unknown>;
  if (isListType(inner)) {
    const item = inputArbitrary(inner.ofType, known, wrongTypes, depth + 1);
    typed = fc.oneof(
      { weight: 6, arbitrary: fc.array(item, { maxLength: 4 }) },
      { weight: 1, arbitrary: item.map((value) => Array.from({ length: 500 }, () => value)) },
      // A single value where a list is expected is coerced to a list of one.
      { weight: 1, arbitrary: item },
    );
  } else if (isEnumType(inner)) {
    typed = fc.oneof(fc.constantFrom(...inner.getValues().map((value) => value.name)), fc.constantFrom('NOPE', '', 'read'));
  } else if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields());
    if (depth > 4) return fc.constant(null);
    const model = Object.fromEntries(fields.map((field) => [field.name, inputArbitrary(field.type, known, wrongTypes, depth + 1)]));
    const requiredKeys = fields.filter((field) => isNonNullType(field.type) && field.defaultValue === undefined).map((field) => field.name);
    typed = fc.oneof(
      { weight: 8, arbitrary: fc.record(model, { requiredKeys }) },
      { weight: 1, arbitrary: fc.record(model, { requiredKeys }).map((value) => ({ ...value, unknownField: 1 })) },
    );
  } else if (isScalarType(inner)) {
    typed = scalarArbitrary(inner.name, known);
  } else {
    throw new Error(`no arbitrary for ${String(inner)}`);
  }
  return wrongTypes ? fc.oneof({ weight: 8, arbitrary: typed }, { weight: 1, arbitrary: wrongTyped }) : typed;
}

/**
 * The arguments of one field: the required ones always, the optional ones sometimes. Most cases
 * are of the right types, so they get past coercion to the resolvers; the rest mix in wrong types.
 */
export function argumentsArbitrary(args: readonly GraphQLArgument[], known: KnownIds): fc.Arbitrary<Record<string, unknown>> {
  const requiredKeys = args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined).map((arg) => arg.name);
  const record = (wrongTypes: boolean) =>
    fc.record(Object.fromEntries(args.map((arg) => [arg.name, inputArbitrary(arg.type, known, wrongTypes)])), { requiredKeys });
  return fc.oneof({ weight: 4, arbitrary: record(false) }, { weight: 1, arbitrary: record(true) });
}
