/* The operations the API tests run, written as a frontend would. */

export const MESSAGE_FIELDS = /* GraphQL */ `
  fragment MessageFields on Message {
    id
    role
    content
    status
    model { id }
    parent { id }
    usage { inputTokens outputTokens cost latencyMs timeToFirstTokenMs }
    error { code message }
    createdAt
    completedAt
  }
`;

export const SEND_MESSAGE = /* GraphQL */ `
  mutation SendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      conversation { id title }
      userMessage { ...MessageFields }
      replies { ...MessageFields }
    }
  }
  ${MESSAGE_FIELDS}
`;

export const CHAT = /* GraphQL */ `
  mutation Chat($input: SendMessageInput!) {
    chat(input: $input) {
      conversation { id title messageCount }
      userMessage { ...MessageFields }
      replies { ...MessageFields }
    }
  }
  ${MESSAGE_FIELDS}
`;

export const EVENT_FIELDS = /* GraphQL */ `
  fragment EventFields on MessageEvent {
    __typename
    messageId
    seq
    ... on TokenDelta { delta }
    ... on ToolCallEvent { toolCall { id name arguments } }
    ... on MessageFinished { message { ...MessageFields } }
  }
  ${MESSAGE_FIELDS}
`;

export const CHAT_STREAM = /* GraphQL */ `
  subscription ChatStream($input: SendMessageInput!) {
    chatStream(input: $input) { ...EventFields }
  }
  ${EVENT_FIELDS}
`;

export const MESSAGE_STREAM = /* GraphQL */ `
  subscription MessageStream($messageId: ID!, $after: Int) {
    messageStream(messageId: $messageId, after: $after) { ...EventFields }
  }
  ${EVENT_FIELDS}
`;

export const CONVERSATION_EVENTS = /* GraphQL */ `
  subscription ConversationEvents($conversationId: ID!) {
    conversationEvents(conversationId: $conversationId) { ...EventFields }
  }
  ${EVENT_FIELDS}
`;

export const STOP_GENERATION = /* GraphQL */ `
  mutation StopGeneration($messageId: ID, $conversationId: ID) {
    stopGeneration(messageId: $messageId, conversationId: $conversationId) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const REGENERATE = /* GraphQL */ `
  mutation Regenerate($messageId: ID!, $model: ID) {
    regenerate(messageId: $messageId, model: $model) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const MESSAGE = /* GraphQL */ `
  query Message($id: ID!) {
    node(id: $id) { ... on Message { ...MessageFields } }
  }
  ${MESSAGE_FIELDS}
`;

export const CONVERSATION = /* GraphQL */ `
  query Conversation($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    conversation(id: $id) {
      id
      title
      messageCount
      lastMessage { id content }
      messages(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id role content status } }
      }
    }
  }
`;

export const CONVERSATIONS = /* GraphQL */ `
  query Conversations($first: Int, $after: String, $period: HistoryPeriod) {
    conversations(first: $first, after: $after, period: $period) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id title messageCount updatedAt lastMessage { content } } }
    }
  }
`;

export const RENAME_CONVERSATION = /* GraphQL */ `
  mutation RenameConversation($id: ID!, $title: String!) {
    renameConversation(id: $id, title: $title) { id title }
  }
`;

export const DELETE_CONVERSATION = /* GraphQL */ `
  mutation DeleteConversation($id: ID!) {
    deleteConversation(id: $id)
  }
`;

export const HEALTH = /* GraphQL */ `
  query Health {
    health { status version database pubsub defaultModel defaultModelDetails { id provider contextWindow inputPrice } embeddingModel usingDemoProvider providers { id name configured baseUrl } }
    version { service engine version features providersSupported }
  }
`;
