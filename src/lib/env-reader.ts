import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** A variable the gateway cannot start with; its message is the one line printed at start. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const wholeNumber = z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).refine(Number.isSafeInteger, 'is too large');
const flag = z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).transform((value) => value === 'true');
const address = (protocols: string[]) => z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`), error: `must be a ${protocols.join(' or ')} URL` });

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return issue.path.length > 0 ? `at ${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/**
 * Reads environment variables through zod schemas. A bad value is recorded
 * with its variable's name and the fallback returned, so every problem is
 * reported at once by `check()`.
 */
export function createEnvReader(env: NodeJS.ProcessEnv) {
  const problems: string[] = [];
  const shown = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);

  function read<Output>(name: string, schema: z.ZodType<Output>, fallback: Output): Output {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    problems.push(`${name} ${firstIssue(parsed.error)} (got ${shown(value)})`);
    return fallback;
  }

  /** JSON text (a variable's value or a file's content) checked against a schema. */
  function json<Output>(name: string, source: string, text: string, schema: z.ZodType<Output>): Output | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      problems.push(`${name} ${source}is not valid JSON: ${(error as Error).message}`);
      return undefined;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    problems.push(`${name} ${source}${firstIssue(parsed.error)}`);
    return undefined;
  }

  return {
    integer: (name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
      read(name, wholeNumber.pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`)), fallback),
    text: <Fallback extends string | undefined = undefined>(name: string, fallback?: Fallback) =>
      read<string | Fallback>(name, z.string(), fallback as Fallback),
    url: (name: string, protocols = ['http', 'https']) => read<string | undefined>(name, address(protocols), undefined),
    flag: (name: string, fallback: boolean) => read(name, flag, fallback),
    oneOf: <const Values extends readonly [string, ...string[]]>(name: string, values: Values, fallback: Values[number]) =>
      read(name, z.enum(values, { error: `must be one of ${values.join(', ')}` }), fallback),
    list: (name: string, fallback: string[] = []) =>
      read(
        name,
        z.string().transform((value) =>
          value
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean),
        ),
        fallback,
      ),
    jsonValue: <Output>(name: string, schema: z.ZodType<Output>, fallback: Output): Output => {
      const value = env[name];
      return value ? (json(name, '', value, schema) ?? fallback) : fallback;
    },
    jsonFile: <Output>(name: string, schema: z.ZodType<Output>): Output | undefined => {
      const value = env[name];
      if (!value) return undefined;
      const file = path.resolve(value);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        problems.push(`${name} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (${file})`);
        return undefined;
      }
      return json(name, `(${file}) `, text, schema);
    },
    /** Throws every recorded problem as one ConfigError. */
    check() {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}

export type EnvReader = ReturnType<typeof createEnvReader>;
