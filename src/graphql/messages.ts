import type { MessageParams } from '../lib/errors.js';
import { de } from './locales/de.js';
import { es } from './locales/es.js';
import { fr } from './locales/fr.js';

type Catalog = Record<string, string>;

export const en: Catalog = {
  'auth.required': 'Authentication required: send an x-device-id header or a bearer token.',
  'auth.forbidden': 'You are not allowed to do this: your tier, sign-in or key scopes do not permit it.',
  'auth.badHeader': 'The Authorization header must be "Bearer <token or API key>".',
  'auth.tokenExpired': 'Your sign-in token has expired; sign in again.',
  'auth.tokenClaim': 'Your sign-in token was not issued for this service (claim "{claim}").',
  'auth.tokenInvalid': 'Your sign-in token is not valid.',
  'auth.jwtNotAccepted': 'This server does not accept sign-in tokens; use an API key or a device id.',
  'auth.apiKeyInvalid': 'This API key is not valid.',
  'auth.apiKeyRevoked': 'This API key has been revoked.',
  'auth.apiKeyExpired': 'This API key has expired.',
  'auth.actingNotAllowed': 'Only an API key created with external usage may act for another user.',
  'auth.actingNotMember': '{email} is not a member of any of your teams.',
  'auth.keysNeedUser': 'API keys are created by signed-in people, not by guests or other keys.',
  'auth.feature': 'Your tier does not include the "{feature}" feature.',
  'input.keyName': 'An API key name must be 1 to 100 characters.',
  'input.keyScopes': 'Unknown API key scopes: {scopes}. Allowed: {allowed}.',
  'input.keyExpiry': 'An API key must expire in the future.',
  'credits.insufficient': 'Not enough credits: this request needs {required} and {balance} are left.',
  'limits.minute': 'Too many requests: at most {limit} a minute. Try again in {retryAfter} s.',
  'limits.day': 'Daily limit of {limit} requests reached. Try again in {retryAfter} s.',
  'limits.freeGuest': 'You have used all {limit} free messages. Sign up to keep chatting.',
  'limits.freeUser': 'You have used all {limit} free messages of your plan. Upgrade to keep chatting.',
  notFound: '{what} {id} was not found.',
  'input.contentLength': 'Message content must be between 1 and {max} characters (got {length}).',
  'input.unknownModel': 'Unknown model "{model}".',
  'input.duplicateModel': 'Model "{model}" was requested twice.',
  'input.tooManyModels': 'At most {max} models can answer one message (got {count}).',
  'input.badDeviceId': 'x-device-id must be 1 to 128 letters, digits or . _ : -.',
  'input.badId': 'The id "{id}" is not valid.',
  'input.titleLength': 'A title must be between 1 and {max} characters.',
  'input.stopTarget': 'Pass either messageId or conversationId.',
  'input.regenerateRole': 'Only assistant replies can be regenerated.',
  'input.parentElsewhere': 'Message {id} belongs to another conversation.',
  'input.pageSize': '"{argument}" must be between 0 and {max}.',
  'input.clientMessageId': 'clientMessageId must be 1 to {max} characters.',
  'input.afterSeq': '"after" must be zero or more.',
  'input.invalidText': '"{argument}" holds a character that is not allowed in text (U+0000 or a lone UTF-16 surrogate).',
  'model.notAllowed': 'Model "{model}" needs the {tier} tier or higher.',
  'provider.unavailable': 'The provider of model "{model}" is not configured.',
  'provider.error': 'The model provider failed: {detail}',
  'template.missingVariables': 'Template "{template}" needs values for: {variables}.',
  'template.badName': 'A template name must be 2 to 64 lowercase letters, digits or underscores (got "{name}").',
  'template.builtIn': '"{name}" is a built-in template and cannot be created, changed or deleted.',
  'template.displayName': 'A template display name must be 1 to 100 characters.',
  'template.prompt': 'A template system prompt must be 1 to {max} characters.',
  'template.nameTaken': 'You already have a template named "{name}".',
  'memory.length': 'A memory must be 1 to {max} characters.',
  'knowledge.encrypted': 'Knowledge collections cannot join encrypted conversations: their passages and citations are stored unsealed.',
  'knowledge.name': 'A collection name must be 1 to {max} characters.',
  'knowledge.description': 'A collection description may be at most {max} characters.',
  'knowledge.nameTaken': 'You already have a collection named "{name}".',
  'knowledge.documentCount': 'Add 1 to {max} files or texts at a time.',
  'knowledge.source': 'Every text needs a source of 1 to {max} characters.',
  'knowledge.noText': '"{source}" ({type}) has no text to index.',
  'knowledge.quota': 'This collection is over its {quota} quota ({limit}).',
  'knowledge.noCollections': 'Name at least one collection to search.',
  'search.query': 'A search query must be 1 to {max} characters.',
  'feedback.rating': 'A RATING needs a whole value from 1 to 5.',
  'feedback.thumbs': '{kind} feedback has the value {value}.',
  'feedback.status': 'A feedback status is at most {max} characters.',
  'feedback.comment': 'A feedback comment is at most {max} characters.',
  'usage.othersNeedOperator': "Only operators may read another user's usage.",
  'files.tooLarge': 'A file may be at most {limit} bytes.',
  'files.tooMany': 'At most {limit} files per request.',
  'files.conversationFull': "This conversation's files may total at most {limit} bytes.",
  'files.unsupportedType': 'Files of type {type} are not accepted (accepted: {accepted}).',
  'files.textTooLong': 'The text of a file may be at most {limit} characters.',
  'files.inflatesTooLarge': 'A document may unpack to at most {limit} bytes.',
  'files.tooManyPages': 'A PDF may have at most {limit} pages.',
  'files.unreadable': 'This {kind} file could not be read.',
  'files.needsVision': 'Model "{model}" cannot read images; choose a vision model or remove the image.',
  'context.tooLong': 'The message, its files and the system prompt need {needed} tokens, but model "{model}" has room for {available}.',
  'voice.unknownTtsProvider': 'There is no text-to-speech provider "{provider}".',
  'voice.unknownSttProvider': 'There is no speech-to-text provider "{provider}".',
  'voice.unknownVoice': 'Provider "{provider}" has no voice "{voice}".',
  'voice.language': '"{language}" is not a language code such as "en" or "pt-BR".',
  'voice.notAudio': 'This is not an audio file (it looks like {type}).',
  'voice.textLength': 'Text to speak must be 1 to {max} characters.',
  'realtime.unknownModel': 'There is no realtime model "{model}" available.',
  'batch.requestCount': 'A batch holds 1 to {max} requests (this one has {count}).',
  'batch.customId': 'Every request needs a customId of 1 to {max} characters.',
  'batch.duplicateCustomId': 'customId "{customId}" appears more than once.',
  'batch.contentLength': 'Request "{customId}" must have 1 to {max} characters of content.',
  'batch.systemPrompt': 'The system prompt may be at most {max} characters.',
  'batch.notFinished': 'This batch job is {status}; its results are ready once it has finished.',
  'webSearch.unavailable': 'Web search is not configured on this server.',
  'webSearch.failed': 'Web search failed: {detail}',
  'encryption.secretRequired': 'This model encrypts conversations: send your secret (the `secret` field or the x-encryption-secret header).',
  'encryption.secretTooShort': 'An encryption secret must be at least {min} characters.',
  'encryption.wrongSecret': 'That is not your encryption secret.',
  'encryption.ownerHasNoKey': "Your team's owner has not set an encryption secret yet, so nothing can be sealed for them.",
  'encryption.noTeam': 'Team-encrypted models need a team: you are not a member of one.',
  'encryption.mixedPrivacy': 'Models of different privacy cannot answer one message together.',
  'encryption.privacyMismatch': 'This conversation is {conversation}; a {model} model cannot continue it.',
  'encryption.noFiles': 'Files cannot be attached to encrypted conversations.',
  'csrf.preflightRequired': 'Requests a browser can send without a preflight need a graphql-require-preflight header.',
  internal: 'Unexpected error.',
};

export const catalogs: Record<string, Catalog> = { en, fr, es, de };

function pickLanguage(acceptLanguage: string | undefined): string {
  if (!acceptLanguage) return 'en';
  const ranked = acceptLanguage
    .split(',')
    .map((part) => {
      const [tag = '', ...rest] = part.trim().split(';');
      const quality = rest.find((item) => item.trim().startsWith('q='));
      return { language: tag.toLowerCase().split('-')[0] ?? '', quality: quality ? Number(quality.split('=')[1]) : 1 };
    })
    .filter((entry) => entry.language && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality);
  return ranked.find((entry) => catalogs[entry.language])?.language ?? 'en';
}

export function localize(key: string, params: MessageParams, acceptLanguage: string | undefined): string {
  const template = catalogs[pickLanguage(acceptLanguage)]?.[key] ?? en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}
