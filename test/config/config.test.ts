import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/lib/config.js';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'gateway-config-'));
});
afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('numbers', () => {
  test('defaults apply when a variable is unset or empty', () => {
    const config = loadConfig({ PORT: '', MAX_MESSAGE_LENGTH: undefined });
    expect(config.port).toBe(4000);
    expect(config.maxMessageLength).toBe(2000);
  });

  test('a whole number is read, spaces around it allowed', () => {
    const config = loadConfig({ PORT: ' 8080 ', RATE_LIMIT_PRO_PER_DAY: '7', UPSTREAM_MAX_RETRIES: '0' });
    expect(config.port).toBe(8080);
    expect(config.tiers.PRO.perDay).toBe(7);
    expect(config.upstream.maxRetries).toBe(0);
  });

  test.each([
    ['10abc', 'must be a whole number'],
    ['1.5', 'must be a whole number'],
    ['-3', 'must be a whole number'],
    ['1e3', 'must be a whole number'],
    ['99999999999999999999', 'is too large'],
  ])('%s is refused, naming the variable and the value', (value, reason) => {
    expect(problemsOf({ MAX_MESSAGE_LENGTH: value })).toBe(`Invalid configuration: MAX_MESSAGE_LENGTH ${reason} (got "${value}")`);
  });

  test('ranges are checked', () => {
    expect(problemsOf({ PORT: '70000' })).toContain('PORT must be at most 65535');
    expect(problemsOf({ BATCH_CONCURRENCY: '0' })).toContain('BATCH_CONCURRENCY must be at least 1');
  });

  test('every bad variable is named at once', () => {
    const message = problemsOf({ PORT: 'x', WS_INIT_TIMEOUT_MS: '5s', GRAPHIQL: 'yes' });
    expect(message).toContain('PORT must be a whole number');
    expect(message).toContain('WS_INIT_TIMEOUT_MS must be a whole number');
    expect(message).toContain('GRAPHIQL must be "true" or "false" (got "yes")');
    expect(message.split('\n')).toHaveLength(1);
  });
});

describe('other kinds', () => {
  test('flags, lists, URLs and levels', () => {
    const config = loadConfig({
      GRAPHIQL: 'false',
      ALLOWED_ORIGINS: ' https://a.example , https://b.example,',
      REDIS_URL: 'redis://cache:6379',
      LOG_LEVEL: 'debug',
    });
    expect(config.graphiql).toBe(false);
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.redisUrl).toBe('redis://cache:6379');
    expect(config.logLevel).toBe('debug');
    expect(problemsOf({ REDIS_URL: 'cache:6379' })).toContain('REDIS_URL must be a redis or rediss URL (got "cache:6379")');
    expect(problemsOf({ DATABASE_URL: 'mysql://db/app' })).toContain('DATABASE_URL must be a postgres or postgresql URL');
    expect(problemsOf({ PUBLIC_URL: 'gateway.example' })).toContain('PUBLIC_URL must be a http or https URL');
    expect(problemsOf({ LOG_LEVEL: 'verbose' })).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
  });

  test('production turns GraphiQL and the demo page off unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ graphiql: false, demoPage: false });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' }).graphiql).toBe(true);
  });

  test('FALLBACK_MODELS is JSON of the right shape', () => {
    expect(loadConfig({ FALLBACK_MODELS: '{"gpt-4o":["gpt-4o-mini","demo"]}' }).fallbackModels).toEqual({ 'gpt-4o': ['gpt-4o-mini', 'demo'] });
    expect(problemsOf({ FALLBACK_MODELS: '{"gpt-4o":' })).toMatch(/^Invalid configuration: FALLBACK_MODELS is not valid JSON: /);
    expect(problemsOf({ FALLBACK_MODELS: '{"gpt-4o":"gpt-4o-mini"}' })).toBe(
      'Invalid configuration: FALLBACK_MODELS at gpt-4o: Invalid input: expected array, received string',
    );
  });

  test('PROVIDERS_FILE is read and checked', async () => {
    const good = path.join(directory, 'good.json');
    await writeFile(
      good,
      JSON.stringify({ providers: [{ id: 'local', baseURL: 'http://127.0.0.1:11434/v1', models: ['llama3', { id: 'big', contextWindow: 8000 }] }] }),
    );
    const config = loadConfig({ PROVIDERS_FILE: good, LOCAL_API_KEY: 'secret' });
    expect(config.providers).toEqual([expect.objectContaining({ id: 'local', apiKey: 'secret', models: ['llama3', { id: 'big', contextWindow: 8000 }] })]);

    const noUrl = path.join(directory, 'no-url.json');
    await writeFile(noUrl, JSON.stringify([{ id: 'local' }]));
    expect(problemsOf({ PROVIDERS_FILE: noUrl })).toBe(`Invalid configuration: PROVIDERS_FILE (${noUrl}) at providers.0.baseURL: needs a "baseURL" URL`);

    const badWindow = path.join(directory, 'bad-window.json');
    await writeFile(badWindow, JSON.stringify([{ id: 'local', baseURL: 'http://x.example/v1', models: [{ id: 'm', contextWindow: '8k' }] }]));
    expect(problemsOf({ PROVIDERS_FILE: badWindow })).toContain('at providers.0.models.0');

    const broken = path.join(directory, 'broken.json');
    await writeFile(broken, '[{"id":');
    expect(problemsOf({ PROVIDERS_FILE: broken })).toContain('is not valid JSON');
    expect(problemsOf({ PROVIDERS_FILE: path.join(directory, 'missing.json') })).toContain('PROVIDERS_FILE cannot be read: ENOENT');
  });
});

test('.env.example lists every variable the configuration reads', () => {
  const read = new Set<string>();
  const recording = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(recording);
  const example = readFileSync(path.resolve(import.meta.dirname, '../../.env.example'), 'utf8');
  const listed = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]));
  // <PROVIDER>_BASE_URL and <PROVIDER>_MODELS are documented once, by OPENAI_'s example.
  const missing = [...read].filter((name) => !listed.has(name) && !/^[A-Z]+_(BASE_URL|MODELS)$/.test(name));
  expect(missing).toEqual([]);
  expect(read.size).toBeGreaterThan(80);
});
