import { UserFacingError } from '../../lib/errors.js';

export interface WebResult {
  title: string;
  url: string;
  snippet: string;
}

/**
 * Web search for `webSearch: true` messages, through a search engine with a
 * SearXNG-compatible JSON API (`GET <url>?q=...&format=json`); its top results
 * join the context, so any model can use them.
 */
export function createWebSearch(options: { url?: string; timeoutMs: number; maxResults: number }) {
  return {
    available: Boolean(options.url),

    async search(query: string, signal?: AbortSignal): Promise<WebResult[]> {
      if (!options.url) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'webSearch.unavailable');
      const address = new URL(options.url);
      address.searchParams.set('q', query.slice(0, 400));
      address.searchParams.set('format', 'json');
      let body: { results?: Array<{ title?: string; url?: string; content?: string }> };
      try {
        const response = await fetch(address, {
          headers: { accept: 'application/json' },
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        body = (await response.json()) as typeof body;
      } catch (error) {
        throw new UserFacingError('PROVIDER_ERROR', 'webSearch.failed', { detail: (error as Error).message.slice(0, 200) });
      }
      return (body.results ?? [])
        .filter((result) => result.url && result.title)
        .slice(0, options.maxResults)
        .map((result) => ({ title: result.title!.trim(), url: result.url!, snippet: (result.content ?? '').trim().slice(0, 500) }));
    },
  };
}

export type WebSearch = ReturnType<typeof createWebSearch>;

/** The results as the system prompt presents them: numbered, so the model can cite [1], [2], ... */
export function webContext(results: WebResult[]): string {
  if (results.length === 0) return '';
  const lines = results.map((result, index) => `[web ${index + 1}: ${result.title.replace(/[\]\n]/g, ' ')}](${result.url})\n${result.snippet}`);
  return `Web search results (cite them by number):\n${lines.join('\n')}`;
}
