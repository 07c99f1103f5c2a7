import { afterAll, beforeAll, expect, test } from 'vitest';
import { catalogs, en, localize } from '../../src/graphql/messages.js';
import { startGateway, type Gateway } from '../support/harness.js';
import { SEND_MESSAGE } from '../support/operations.js';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

test('errors follow accept-language; the code stays the same', async () => {
  const send = (language: string) =>
    gateway.guest({ 'accept-language': language }).execute(SEND_MESSAGE, { input: { content: 'hi', models: ['gpt-17-ultra'] } });
  const french = await send('fr-FR,fr;q=0.9,en;q=0.8');
  expect(french.errors![0]!.message).toBe('Modèle inconnu « gpt-17-ultra ».');
  expect(french.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  expect((await send('de')).errors![0]!.message).toBe('Unbekanntes Modell „gpt-17-ultra“.');
  expect((await send('es-MX')).errors![0]!.message).toBe('Modelo desconocido «gpt-17-ultra».');
  expect((await send('ja, *;q=0.1')).errors![0]!.message).toBe('Unknown model "gpt-17-ultra".');
});

test('an unauthenticated French caller is told in French', async () => {
  const result = await gateway.anonymous({ 'accept-language': 'fr' }).execute('{ conversations(first: 1) { totalCount } }');
  expect(result.status).toBe(401);
  expect(result.errors![0]!.message).toContain('Authentification requise');
});

test('every message exists in every language with the same placeholders', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
  for (const [language, catalog] of Object.entries(catalogs)) {
    for (const [key, text] of Object.entries(en)) {
      expect(catalog[key], `${language}: ${key}`).toBeDefined();
      expect(placeholders(catalog[key]!), `${language}: ${key}`).toEqual(placeholders(text));
    }
  }
  expect(localize('limits.minute', { limit: 10, retryAfter: 3 }, 'de-CH')).toBe('Zu viele Anfragen: höchstens 10 pro Minute. Versuchen Sie es in 3 s erneut.');
});
