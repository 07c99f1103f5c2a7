import SchemaBuilder, { BasePlugin, createInputValueMapper, mapInputFields, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { badInput } from '../lib/errors.js';
import { decodeGlobalId } from './global-id.js';

interface ExpectedId {
  typenames: string[];
  /** A single id that may be omitted: an empty string reads as omitted. */
  optional: boolean;
}

/**
 * Checks the ids of `globalID`/`globalIDList` arguments and input fields declared with `for:`
 * before the relay plugin decodes them. The relay plugin rejects an id of another type with a
 * plain Error, which clients would only see as INTERNAL_SERVER_ERROR; here it is BAD_USER_INPUT
 * (input.badId) naming the id. A malformed id decodes as a Model id, so it fails the same check.
 */
export class GlobalIdCheckPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  private readonly mappingCache = new Map();

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
    const check = createInputValueMapper(mappings, (value, mapping) => {
      const globalId = String(value);
      // An empty optional id has always meant "none" (sendMessage: a new conversation).
      if (globalId === '' && mapping.value?.optional) return null;
      if (!mapping.value?.typenames.includes(decodeGlobalId(globalId).typename)) throw badInput('input.badId', { id: globalId });
      return value;
    });
    // First, so the relay plugin only ever decodes ids that passed.
    return { ...fieldConfig, argMappers: [(args) => check(args), ...fieldConfig.argMappers] };
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
