/** What GraphiQL opens with: a streamed chat from the demo provider, in lines short enough for the editor's width. */
export const graphiqlDefaultQuery = `# Welcome to the AI chat gateway.
# Press run: the reply streams token by token.
# Headers (bottom panel) identify you:
# x-device-id for a guest.

subscription Chat {
  chatStream(input: { content: "Hello!" }) {
    seq
    ... on TokenDelta { delta }
    ... on MessageFinished {
      message {
        id
        status
        content
        model { id }
        usage {
          inputTokens
          outputTokens
          cost
          timeToFirstTokenMs
        }
      }
    }
  }
}

query Conversations {
  conversations(first: 10) {
    totalCount
    edges {
      node {
        id
        title
        messageCount
        lastMessage { content }
      }
    }
  }
}
`;
