import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { renderTemplate, templateVariables } from '../../src/modules/templates/templates.service.js';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const TEMPLATES = /* GraphQL */ `query { templates { id name displayName builtIn variables } }`;
const TEMPLATE = /* GraphQL */ `query ($name: String!) { template(name: $name) { id name systemPrompt variables exampleUsage } }`;
const CREATE = /* GraphQL */ `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id name displayName systemPrompt variables builtIn } }`;
const UPDATE = /* GraphQL */ `mutation ($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id name systemPrompt } }`;
const DELETE = /* GraphQL */ `mutation ($id: ID!) { deleteTemplate(id: $id) }`;
const SET_TEMPLATE = /* GraphQL */ `mutation ($id: ID!, $name: String!, $variables: JSON) { setConversationTemplate(id: $id, templateName: $name, variables: $variables) { id template { name } templateVariables } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const systemPromptSent = () => gateway.upstream.requests.at(-1)!.body.messages[0];

describe('rendering', () => {
  test('placeholders are found and filled; every missing one is named', () => {
    const template = { name: 't', systemPrompt: 'Expert in {{domain}} for {{ audience }}, {{domain}} again.' };
    expect(templateVariables(template.systemPrompt)).toEqual(['domain', 'audience']);
    expect(renderTemplate(template, { domain: 'law', audience: 'students' })).toBe('Expert in law for students, law again.');
    expect(() => renderTemplate(template, {})).toThrowError(expect.objectContaining({ params: { template: 't', variables: 'domain, audience' } }));
  });
});

describe('through the API', () => {
  test('the three built-ins are listed with their variables', async () => {
    const templates = (await gateway.guest().execute(TEMPLATES)).data.templates;
    expect(templates.map((template: any) => template.name)).toEqual(['standard_assistant', 'expert_assistant', 'customer_support_assistant']);
    expect(templates.find((template: any) => template.name === 'customer_support_assistant').variables).toEqual(['company', 'product']);
  });

  test('a template on a message becomes the system prompt, and stays for later turns', async () => {
    const alice = gateway.guest();
    const first = (
      await alice.execute(CHAT, {
        input: { content: 'hello', templateName: 'expert_assistant', templateVariables: { domain: 'tax law' }, systemPrompt: 'Answer in French.' },
      })
    ).data.chat;
    expect(systemPromptSent()).toEqual({ role: 'system', content: expect.stringMatching(/^You are an expert in tax law\..*\n\nAnswer in French\.$/s) });
    await alice.execute(CHAT, { input: { content: 'and then?', conversationId: first.conversation.id } });
    expect(systemPromptSent().content).toContain('You are an expert in tax law.');
    const conversation = (
      await alice.execute('query ($id: ID!) { conversation(id: $id) { template { name } templateVariables } }', { id: first.conversation.id })
    ).data.conversation;
    expect(conversation).toEqual({ template: { name: 'expert_assistant' }, templateVariables: { domain: 'tax law' } });
  });

  test('a missing variable is BAD_USER_INPUT naming it, and nothing is sent', async () => {
    const result = await gateway
      .guest()
      .execute(CHAT, { input: { content: 'hi', templateName: 'customer_support_assistant', templateVariables: { company: 'Acme' } } });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toBe('Template "customer_support_assistant" needs values for: product.');
    expect(result.errors![0]!.extensions!.missingVariables).toEqual(['product']);
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  test('an unknown template is NOT_FOUND', async () => {
    expect(codeOf(await gateway.guest().execute(CHAT, { input: { content: 'hi', templateName: 'nope' } }))).toBe('NOT_FOUND');
  });

  test('setConversationTemplate changes the system prompt of later turns', async () => {
    const alice = gateway.guest();
    const first = (await alice.execute(CHAT, { input: { content: 'hello' } })).data.chat;
    expect(gateway.upstream.requests.at(-1)!.body.messages[0].role).toBe('user');
    const missing = await alice.execute(SET_TEMPLATE, { id: first.conversation.id, name: 'customer_support_assistant', variables: { company: 'Acme' } });
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    const set = (
      await alice.execute(SET_TEMPLATE, { id: first.conversation.id, name: 'customer_support_assistant', variables: { company: 'Acme', product: 'routers' } })
    ).data.setConversationTemplate;
    expect(set.template.name).toBe('customer_support_assistant');
    await alice.execute(CHAT, { input: { content: 'my router is broken', conversationId: first.conversation.id } });
    expect(systemPromptSent().content).toBe(
      'You are a friendly customer support agent for Acme, helping customers with routers. Be patient, ask for the details you need, and never promise what Acme has not announced.',
    );
  });

  test('users create, update and delete their own templates; built-ins are protected', async () => {
    const alice = gateway.guest();
    const input = { name: 'pirate', displayName: 'Pirate', systemPrompt: 'Talk like a pirate about {{topic}}.' };
    const created = (await alice.execute(CREATE, { input })).data.createTemplate;
    expect(created).toMatchObject({ name: 'pirate', variables: ['topic'], builtIn: false });
    expect(codeOf(await alice.execute(CREATE, { input }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await alice.execute(CREATE, { input: { ...input, name: 'Bad Name!' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await alice.execute(CREATE, { input: { ...input, name: 'standard_assistant' } }))).toBe('FORBIDDEN');

    await alice.execute(CHAT, { input: { content: 'ahoy', templateName: 'pirate', templateVariables: { topic: 'the sea' } } });
    expect(systemPromptSent().content).toBe('Talk like a pirate about the sea.');

    const updated = (await alice.execute(UPDATE, { id: created.id, input: { ...input, systemPrompt: 'Arr, {{topic}}!' } })).data.updateTemplate;
    expect(updated.systemPrompt).toBe('Arr, {{topic}}!');
    const builtIn = (await alice.execute(TEMPLATE, { name: 'standard_assistant' })).data.template;
    expect(codeOf(await alice.execute(UPDATE, { id: builtIn.id, input }))).toBe('FORBIDDEN');
    expect(codeOf(await alice.execute(DELETE, { id: builtIn.id }))).toBe('FORBIDDEN');
    expect((await alice.execute(DELETE, { id: created.id })).data.deleteTemplate).toBe(true);
    expect((await alice.execute(TEMPLATE, { name: 'pirate' })).data.template).toBeNull();
  });

  test("another caller can neither see nor change someone's template", async () => {
    const alice = gateway.guest();
    const bob = gateway.guest();
    const created = (await alice.execute(CREATE, { input: { name: 'private_one', displayName: 'Mine', systemPrompt: 'secret prompt' } })).data.createTemplate;
    expect((await bob.execute(TEMPLATE, { name: 'private_one' })).data.template).toBeNull();
    expect((await bob.execute(TEMPLATES)).data.templates.map((template: any) => template.name)).not.toContain('private_one');
    expect((await bob.execute('query ($id: ID!) { node(id: $id) { id } }', { id: created.id })).data.node).toBeNull();
    expect(codeOf(await bob.execute(UPDATE, { id: created.id, input: { name: 'x_y', displayName: 'x', systemPrompt: 'x' } }))).toBe('NOT_FOUND');
    expect(codeOf(await bob.execute(DELETE, { id: created.id }))).toBe('NOT_FOUND');
    expect(codeOf(await bob.execute(CHAT, { input: { content: 'use it', templateName: 'private_one' } }))).toBe('NOT_FOUND');
  });
});
