import SchemaBuilder, { BasePlugin, createInputValueMapper, mapInputFields, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { badInput, type UserFacingError } from '../lib/errors.js';
import { decodeGlobalId } from './global-id.js';

interface ExpectedId {
  typenames: string[];
  /** A single id that may be omitted: an empty string reads as omitted. */
  optional: boolean;
}

type ArgMapper<Types extends SchemaTypes> = PothosOutputFieldConfig<Types>['argMappers'][number];
type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;

/** The first bad id of a field execution, keyed by its resolve info, until the resolver is reached. */
const badIds = new WeakMap<object, UserFacingError>();

/**
 * Checks the ids of `globalID`/`globalIDList` arguments and input fields declared with `for:`
 * before the relay plugin decodes them. The relay plugin rejects an id of another type with a
 * plain Error, which clients would only see as INTERNAL_SERVER_ERROR; here it is BAD_USER_INPUT
 * (input.badId) naming the id. A malformed id decodes as a Model id, so it fails the same check.
 *
 * Arguments are mapped before any resolver wrapper runs, so a bad id is only noted there (and
 * left out for the relay plugin); it is thrown when the resolver is reached, inside the
 * auth-scope checks: a caller without credentials is still UNAUTHENTICATED first.
 */
export class GlobalIdCheckPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  private readonly mappingCache = new Map();
  private readonly checks = new WeakSet<ArgMapper<Types>>();

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const mappings = mapInputFields<Types, ExpectedId>(
      fieldConfig.args,
      this.buildCache,
      (inputField) => {
        const expected = inputField.extensions?.relayGlobalIDFor as { typename: string }[] | null | undefined;
        if (!expected) return null;
        return { typenames: expected.map(({ typename }) => typename), optional: inputField.type.kind !== 'List' && !inputField.type.required };
      },
      this.mappingCache,
    );
    if (!mappings) return fieldConfig;
    const mapIds = createInputValueMapper<Types, ExpectedId, [(error: UserFacingError) => void]>(mappings, (value, mapping, report) => {
      const globalId = String(value);
      // An empty optional id has always meant "none" (sendMessage: a new conversation).
      if (globalId === '' && mapping.value?.optional) return null;
      if (mapping.value?.typenames.includes(decodeGlobalId(globalId).typename)) return value;
      report(badInput('input.badId', { id: globalId }));
      return null;
    });
    const check: ArgMapper<Types> = (args, _context, info) =>
      mapIds(args, undefined, (error) => {
        if (!badIds.has(info)) badIds.set(info, error);
      });
    this.checks.add(check);
    // First, so the relay plugin only ever decodes ids that passed.
    return { ...fieldConfig, argMappers: [check, ...fieldConfig.argMappers] };
  }

  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    return this.throwingBadIds(resolver, fieldConfig) ?? resolver;
  }

  override wrapSubscribe(subscribe: Resolver<Types> | undefined, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> | undefined {
    return subscribe && (this.throwingBadIds(subscribe, fieldConfig) ?? subscribe);
  }

  private throwingBadIds(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> | undefined {
    if (!fieldConfig.argMappers.some((mapper) => this.checks.has(mapper))) return undefined;
    return (parent, args, context, info) => {
      const badId = badIds.get(info);
      if (badId) throw badId;
      return resolver(parent, args, context, info);
    };
  }
}

const pluginName = 'globalIdCheck';
export default pluginName;

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      globalIdCheck: GlobalIdCheckPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin(pluginName, GlobalIdCheckPlugin);
