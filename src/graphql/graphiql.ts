/** What GraphiQL opens with: a streamed chat from the demo provider. */
export const graphiqlDefaultQuery = `# Welcome to the AI chat gateway.
# Press the run button: the reply streams in token by token.
# Headers (bottom panel) identify you: x-device-id for a guest.

subscription Chat {
  chatStream(input: { content: "Hello! What can you do?" }) {
    seq
    ... on TokenDelta { delta }
    ... on MessageFinished {
      message { id status content model { id } usage { inputTokens outputTokens cost timeToFirstTokenMs } }
    }
  }
}

query Conversations {
  conversations(first: 10) {
    totalCount
    edges { node { id title messageCount lastMessage { content } } }
  }
}
`;
