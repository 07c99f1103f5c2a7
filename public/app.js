// The demo chat: plain ES modules, no build step, only the public GraphQL API.
import { createClient } from '/vendor/graphql-ws/client.js';

const deviceId = localStorage.getItem('gateway-demo-device') ?? `demo-${crypto.randomUUID()}`;
localStorage.setItem('gateway-demo-device', deviceId);
const headers = { 'content-type': 'application/json', 'x-device-id': deviceId };
const socket = createClient({ url: `${location.origin.replace(/^http/, 'ws')}/graphql`, connectionParams: { 'x-device-id': deviceId } });
const $ = (selector) => document.querySelector(selector);
let conversationId = null;

async function graphql(query, variables = {}) {
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors.map((error) => error.message).join('; '));
  return body.data;
}

const element = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
};

function showError(error) {
  $('#error').textContent = error ? String(error.message ?? error) : '';
}

async function loadModels() {
  const data = await graphql(
    /* GraphQL */ `query DemoModels { models(first: 100) { edges { node { id displayName available modalities } } } defaults: health { defaultModel } }`,
  );
  // Chat models only: embedding, realtime and image models do not answer messages.
  const available = data.models.edges
    .map((edge) => edge.node)
    .filter((model) => model.available && !model.modalities.some((modality) => ['embedding', 'realtime', 'image-output'].includes(modality)));
  const fieldset = $('#models');
  for (const model of available) {
    const checked = model.id === data.defaults.defaultModel;
    const box = element('input', { type: 'checkbox', name: 'model', value: model.id, ...(checked ? { checked: '' } : {}) });
    fieldset.append(element('label', {}, box, ` ${model.displayName}`));
  }
}

async function loadConversations() {
  const data = await graphql(/* GraphQL */ `query DemoConversations { conversations(first: 20) { edges { node { id title } } } }`);
  const list = $('#conversations');
  list.replaceChildren(
    ...data.conversations.edges.map(({ node }) =>
      element(
        'li',
        {},
        element('button', { type: 'button', 'aria-current': String(node.id === conversationId), onclick: () => openConversation(node.id) }, node.title),
      ),
    ),
  );
}

async function openConversation(id) {
  conversationId = id;
  const data = await graphql(
    /* GraphQL */ `query DemoConversation($id: ID!) { conversation(id: $id) { messages(last: 50) { edges { node { role content model { id } usage { cost } } } } } }`,
    { id },
  );
  $('#replies').replaceChildren();
  $('#history').replaceChildren(
    ...data.conversation.messages.edges.map(({ node }) =>
      element('div', { class: `turn ${node.role.toLowerCase()}` }, element('small', {}, node.model?.id ?? 'you'), node.content),
    ),
  );
  await loadConversations();
}

function usageLine(message) {
  if (!message.usage) return '';
  const { inputTokens, outputTokens, cost, latencyMs } = message.usage;
  return `${inputTokens} in · ${outputTokens} out · $${cost.toFixed(6)} · ${latencyMs} ms`;
}

function replyColumn(reply) {
  const thoughts = element('div', { class: 'thoughts' });
  const thinking = element('details', { class: 'thinking', hidden: '' }, element('summary', {}, 'Thinking'), thoughts);
  const text = element('div', { class: 'text' });
  const tools = element('ol', { class: 'tools', 'aria-label': 'Tool calls' });
  const status = element('span', { class: 'status' }, 'streaming');
  const meta = element('div', { class: 'meta' });
  const stop = element(
    'button',
    {
      type: 'button',
      onclick: () => graphql(/* GraphQL */ `mutation DemoStop($id: ID) { stopGeneration(messageId: $id) { id } }`, { id: reply.id }).catch(showError),
    },
    'Stop',
  );
  const feedback = element('div', { class: 'feedback', hidden: '' });
  for (const [kind, label] of [
    ['THUMBS_UP', 'Helpful'],
    ['THUMBS_DOWN', 'Not helpful'],
  ]) {
    const button = element('button', { type: 'button', 'aria-label': kind, 'aria-pressed': 'false' }, label);
    button.addEventListener('click', async () => {
      await graphql(/* GraphQL */ `mutation DemoFeedback($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`, {
        input: { messageId: reply.id, kind },
      }).catch(showError);
      for (const other of feedback.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other === button));
    });
    feedback.append(button);
  }
  const column = element(
    'article',
    { class: 'reply', 'data-model': reply.model.id },
    element('header', {}, reply.model.id, status, stop),
    thinking,
    tools,
    text,
    meta,
    feedback,
  );
  return { column, thinking, thoughts, text, tools, status, meta, stop, feedback };
}

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function showToolCall(view, call) {
  view.tools.append(element('li', { class: 'tool-call', 'data-call': call.id }, element('code', {}, `${call.name}(${call.arguments})`)));
}

function showToolResult(view, callId, result) {
  const item = [...view.tools.children].find((child) => child.dataset.call === callId);
  item?.append(element('div', { class: 'tool-result' }, `→ ${result}`));
}

/** A reply that waits for the caller's results: one field per unanswered call, then the model goes on in a new column. */
function askForResults(reply, view, message) {
  const pending = message.toolCalls.filter((call) => call.result === null);
  const fields = pending.map((call) =>
    element('input', { 'aria-label': `Result of ${call.name}`, value: call.name === 'get_weather' ? '18°C and sunny' : '' }),
  );
  const form = element('form', { class: 'tool-answers' }, ...fields, element('button', { type: 'submit' }, 'Send results'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const results = pending.map((call, index) => ({ toolCallId: call.id, output: fields[index].value }));
    try {
      const data = await graphql(
        /* GraphQL */ `mutation DemoToolResults($id: ID!, $results: [ToolResultInput!]!) { submitToolResults(messageId: $id, results: $results) { id model { id } } }`,
        { id: reply.id, results },
      );
      form.remove();
      const next = data.submitToolResults;
      const nextView = replyColumn(next);
      view.column.after(nextView.column);
      follow(next, nextView);
    } catch (error) {
      showError(error);
    }
  });
  view.column.append(form);
}

function follow(reply, view) {
  socket.subscribe(
    {
      query: /* GraphQL */ `subscription DemoFollow($id: ID!) { messageStream(messageId: $id) { __typename ... on ReasoningDelta { delta } ... on TokenDelta { delta } ... on ToolCallEvent { toolCall { id name arguments } } ... on ToolResultEvent { toolCallId result } ... on MessageFinished { message { status content reasoning toolCalls { id name result } usage { inputTokens outputTokens cost latencyMs } error { message } } } } }`,
      variables: { id: reply.id },
    },
    {
      next: ({ data, errors }) => {
        if (errors) return showError(errors[0].message);
        const event = data.messageStream;
        if (event.__typename === 'ReasoningDelta') {
          view.thinking.hidden = false;
          view.thoughts.textContent += event.delta;
        }
        if (event.__typename === 'TokenDelta') view.text.textContent += event.delta;
        if (event.__typename === 'ToolCallEvent') showToolCall(view, event.toolCall);
        if (event.__typename === 'ToolResultEvent') showToolResult(view, event.toolCallId, event.result);
        if (event.__typename === 'MessageFinished') {
          const message = event.message;
          view.text.textContent = message.content;
          view.thoughts.textContent = message.reasoning;
          view.thinking.hidden = !message.reasoning;
          view.status.textContent = message.status;
          view.meta.textContent = message.error ? message.error.message : usageLine(message);
          view.stop.remove();
          view.feedback.hidden = false;
          if (message.status === 'REQUIRES_ACTION') askForResults(reply, view, message);
          loadConversations().catch(showError);
        }
      },
      error: showError,
      complete: () => {},
    },
  );
}

async function send(event) {
  event.preventDefault();
  showError(null);
  const content = $('#message').value.trim();
  const models = [...document.querySelectorAll('input[name="model"]:checked')].map((box) => box.value);
  if (!content) return;
  try {
    const data = await graphql(
      /* GraphQL */ `mutation DemoSend($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } userMessage { content } replies { id model { id } } } }`,
      {
        input: {
          content,
          models: models.length ? models : null,
          conversationId,
          enableThinking: $('#think').checked || null,
          clientMessageId: crypto.randomUUID(),
          tools: $('#offer-weather').checked ? [WEATHER_TOOL] : null,
          serverTools: $('#offer-memory').checked ? ['memory'] : null,
        },
      },
    );
    const result = data.sendMessage;
    conversationId = result.conversation.id;
    $('#history').append(element('div', { class: 'turn user' }, element('small', {}, 'you'), content));
    $('#message').value = '';
    const views = result.replies.map((reply) => ({ reply, view: replyColumn(reply) }));
    $('#replies').replaceChildren(...views.map(({ view }) => view.column));
    for (const { reply, view } of views) follow(reply, view);
  } catch (error) {
    showError(error);
  }
}

/** The balance as it moves: reserved when a turn starts, settled when its replies finish. */
function followBalance() {
  socket.subscribe(
    { query: /* GraphQL */ `subscription DemoBalance { viewerUpdates { credits limits { usedThisMinute perMinute } } }` },
    {
      next: ({ data }) => {
        if (!data) return;
        const { credits, limits } = data.viewerUpdates;
        $('#balance').textContent = `${credits.toLocaleString('en')} credits · ${limits.usedThisMinute}/${limits.perMinute} requests this minute`;
      },
      error: showError,
      complete: () => {},
    },
  );
}

/** An image of the message, drawn by the first image model (the demo draws offline) and shown from its download URL. */
async function draw() {
  showError(null);
  const prompt = $('#message').value.trim();
  if (!prompt) return;
  try {
    const data = await graphql(
      /* GraphQL */ `mutation DemoDraw($input: GenerateImageInput!) { generateImage(input: $input) { images { url filename conversation { id } } } }`,
      { input: { prompt, conversationId } },
    );
    $('#history').append(element('div', { class: 'turn user' }, element('small', {}, 'you'), prompt));
    for (const image of data.generateImage.images) {
      // The download needs the same credentials as the API, which an <img> alone cannot send.
      const blob = await (await fetch(image.url, { headers })).blob();
      $('#history').append(element('div', { class: 'turn image' }, element('img', { src: URL.createObjectURL(blob), alt: prompt, width: '256' })));
    }
    $('#message').value = '';
  } catch (error) {
    showError(error);
  }
}

$('#composer').addEventListener('submit', send);
$('#draw').addEventListener('click', draw);
$('#new-chat').addEventListener('click', () => {
  conversationId = null;
  $('#history').replaceChildren();
  $('#replies').replaceChildren();
});
followBalance();
await Promise.all([loadModels(), loadConversations()]).catch(showError);
document.body.dataset.ready = 'true';
