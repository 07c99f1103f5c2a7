import { badInput } from '../lib/errors.js';

/**
 * Global ids are base64url("Type:rawId"). Models are the exception: their id is
 * the model name clients already pass around ("gpt-4o"), so an id that does not
 * decode to a known type is read as a model id.
 */
const encodedTypes = new Set([
  'User',
  'Team',
  'Conversation',
  'Message',
  'Template',
  'UploadedFile',
  'Feedback',
  'Memory',
  'BatchJob',
  'ApiKey',
  'KnowledgeCollection',
  'KnowledgeDocument',
]);

export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  if (typename === 'Model') return String(id);
  return Buffer.from(`${typename}:${id}`).toString('base64url');
}

export function decodeGlobalId(globalId: string): { typename: string; id: string } {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const separator = decoded.indexOf(':');
  const typename = decoded.slice(0, separator);
  if (separator > 0 && encodedTypes.has(typename) && Buffer.from(decoded).toString('base64url') === globalId) {
    return { typename, id: decoded.slice(separator + 1) };
  }
  return { typename: 'Model', id: globalId };
}

/**
 * The raw id of an already decoded global id of the expected type; BAD_USER_INPUT otherwise.
 * For ids of types the schema has no object for (ApiKey), which a globalID `for:` cannot name.
 */
export function rawIdOf(globalId: { typename: string; id: string }, typename: string): string {
  if (globalId.typename !== typename) throw badInput('input.badId', { id: encodeGlobalId(globalId.typename, globalId.id) });
  return globalId.id;
}
