import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MESSAGE_FIELDS } from '../support/operations.js';

export const TOOL_EVENT_FIELDS = /* GraphQL */ `
  fragment ToolEventFields on MessageEvent {
    __typename
    messageId
    seq
    ... on TokenDelta { delta }
    ... on ToolCallEvent { toolCall { id name arguments } }
    ... on ToolResultEvent { toolCallId result }
    ... on MessageFinished { message { ...MessageFields toolCalls { id name arguments result } } }
  }
  ${MESSAGE_FIELDS}
`;

export const TOOL_CHAT_STREAM = /* GraphQL */ `
  subscription ToolChatStream($input: SendMessageInput!) { chatStream(input: $input) { ...ToolEventFields } }
  ${TOOL_EVENT_FIELDS}
`;

export const TOOL_MESSAGE_STREAM = /* GraphQL */ `
  subscription ToolMessageStream($messageId: ID!, $after: Int) { messageStream(messageId: $messageId, after: $after) { ...ToolEventFields } }
  ${TOOL_EVENT_FIELDS}
`;

export const TOOL_CHAT = /* GraphQL */ `
  mutation ToolChat($input: SendMessageInput!) {
    chat(input: $input) { conversation { id } replies { ...MessageFields toolCalls { id name arguments result } } }
  }
  ${MESSAGE_FIELDS}
`;

export const SUBMIT_TOOL_RESULTS = /* GraphQL */ `
  mutation SubmitToolResults($messageId: ID!, $results: [ToolResultInput!]!) {
    submitToolResults(messageId: $messageId, results: $results) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const SERVER_TOOLS = /* GraphQL */ `
  query ServerTools { serverTools { name description parameters available } }
`;

export type ToolEvent = {
  __typename: string;
  messageId: string;
  seq: number;
  delta?: string;
  toolCall?: { id: string; name: string; arguments: string };
  toolCallId?: string;
  result?: string;
  message?: any;
};

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/**
 * A SearXNG-compatible search engine on a loopback port: a query with "slow"
 * in it answers after `slowMs`; every other at once, naming the query (at
 * length when it has "long" in it).
 */
export async function startSearchEngine(slowMs: number): Promise<{ url: string; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const server: Server = createServer((request, response) => {
    const query = new URL(request.url!, 'http://localhost').searchParams.get('q') ?? '';
    queries.push(query);
    const answer = () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          results: [
            { title: `About ${query}`, url: 'https://example.org/a', content: query.includes('long') ? 'word '.repeat(200) : `Everything on ${query}.` },
          ],
        }),
      );
    };
    if (query.includes('slow')) setTimeout(answer, slowMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/search`,
    queries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
