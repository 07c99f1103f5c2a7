import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxQueryLength: number;
  maxCost: number;
  /** Production: no introspection and no "did you mean" field suggestions. */
  hideSchema: boolean;
}

const tooComplex = (message: string) =>
  new GraphQLError(message.replace(/^Syntax Error: /, ''), { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });

/** Rejects the document with one error that has a code (and HTTP 400), instead of the library's bare "Syntax Error". */
const reject = (_context: unknown, error: GraphQLError) => {
  throw tooComplex(error.message);
};

/** Whether the text has more lexical tokens than the limit, counted with graphql-js's own lexer (stops at the limit). */
function exceedsTokens(text: string, maxTokens: number): boolean {
  const lexer = new Lexer(new Source(text));
  for (let count = 0; count <= maxTokens; count += 1) {
    if (lexer.advance().kind === TokenKind.EOF) return false;
  }
  return true;
}

/** Refuses query text longer than the limits (characters, then tokens) before it is parsed. */
function useMaxQuerySize(maxLength: number, maxTokens: number): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (source.length > maxLength) throw tooComplex(`Query text of ${source.length} characters exceeds the limit of ${maxLength}.`);
      try {
        if (exceedsTokens(source, maxTokens)) throw tooComplex(`Token limit of ${maxTokens} exceeded.`);
      } catch (error) {
        // A lexical error is the parser's to report, with its location.
        if ((error as GraphQLError).extensions?.code === 'QUERY_TOO_COMPLEX') throw error;
      }
    },
  };
}

/**
 * Abuse limits on every GraphQL document (HTTP, SSE and graphql-ws alike):
 * length, tokens, depth, aliases, directives and cost (GraphQL Armor), and in
 * production no introspection and no field suggestions.
 */
export function useQueryLimits(limits: QueryLimits): Plugin[] {
  const rejected = { onReject: [reject as never] };
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth, ...rejected },
    maxAliases: { n: limits.maxAliases, ...rejected },
    maxDirectives: { n: limits.maxDirectives, ...rejected },
    costLimit: { maxCost: limits.maxCost, ...rejected },
    // Counted before parsing (above), where the error can carry its code and status.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: limits.hideSchema },
  });
  return [
    useMaxQuerySize(limits.maxQueryLength, limits.maxTokens),
    ...(armor.protect().plugins as Plugin[]),
    ...(limits.hideSchema ? [useDisableIntrospection() as Plugin] : []),
  ];
}
