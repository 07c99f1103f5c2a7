import { afterAll, beforeAll, expect, test } from 'vitest';
import { builtInModels } from '../../src/modules/catalog/catalog.data.js';
import { startGateway, type Gateway } from '../support/harness.js';

const MODELS = /* GraphQL */ `
  query Models($filter: ModelFilter, $first: Int, $after: String) {
    models(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id displayName vendor provider contextWindow maxOutputTokens inputPrice outputPrice modalities minTier privacy enabled available } }
    }
  }
`;
const CATALOG = /* GraphQL */ `
  query Catalog { vendors { name modelCount } modalities { name modelCount } catalogStatus { vendorCount modelCount priceCount topVendors { name modelCount } } }
`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

test('the shipped catalog has at least 30 real models from at least 8 vendors, priced, plus a demo model per privacy mode', () => {
  const real = builtInModels.filter((model) => model.provider !== 'demo');
  expect(real.length).toBeGreaterThanOrEqual(30);
  expect(new Set(real.map((model) => model.vendor)).size).toBeGreaterThanOrEqual(8);
  for (const model of real) {
    expect(model.contextWindow, model.id).toBeGreaterThan(0);
    // Image models are priced per image instead of per token.
    expect(model.inputPrice ?? model.imagePrice ?? null, model.id).not.toBeNull();
  }
  const demoPrivacy = builtInModels.filter((model) => model.provider === 'demo').map((model) => model.privacy);
  expect(new Set(demoPrivacy)).toEqual(new Set(['PUBLIC', 'PRIVATE_ENCRYPTED', 'TEAM_ENCRYPTED']));
});

test('models filter by pattern, vendor and modality, and page by cursor', async () => {
  const anonymous = gateway.anonymous();
  const gpt = (await anonymous.execute(MODELS, { filter: { pattern: 'gpt-4*' }, first: 3 })).data.models;
  expect(gpt.edges.every((edge: any) => edge.node.id.startsWith('gpt-4'))).toBe(true);
  expect(gpt.totalCount).toBe(builtInModels.filter((model) => model.id.startsWith('gpt-4')).length);
  expect(gpt.pageInfo.hasNextPage).toBe(true);
  const rest = (await anonymous.execute(MODELS, { filter: { pattern: 'gpt-4*' }, first: 50, after: gpt.pageInfo.endCursor })).data.models;
  expect([...gpt.edges, ...rest.edges].map((edge: any) => edge.node.id)).toHaveLength(gpt.totalCount);

  const anthropic = (await anonymous.execute(MODELS, { filter: { vendor: 'anthropic' }, first: 50 })).data.models;
  expect(anthropic.totalCount).toBeGreaterThan(0);
  expect(anthropic.edges.every((edge: any) => edge.node.vendor === 'Anthropic')).toBe(true);
  const embeddings = (await anonymous.execute(MODELS, { filter: { modality: 'embedding' }, first: 50 })).data.models;
  expect(embeddings.edges.map((edge: any) => edge.node.id)).toContain('text-embedding-3-small');
  const sonnet = (await anonymous.execute(MODELS, { filter: { pattern: 'sonnet' } })).data.models.edges[0].node;
  expect(sonnet).toMatchObject({ id: 'claude-sonnet-4-5', vendor: 'Anthropic', inputPrice: 3, outputPrice: 15, minTier: 'PRO', available: false });
});

test('available reflects the viewer tier and whether the provider is configured', async () => {
  const pro = await gateway.user({ tier: 'ENTERPRISE' });
  const fake = (await pro.execute(MODELS, { filter: { vendor: 'Fake' }, first: 10 })).data.models.edges.map((edge: any) => edge.node);
  expect(fake.every((model: any) => model.available)).toBe(true);
  const freeView = (await gateway.guest().execute(MODELS, { filter: { pattern: 'fake-pro' } })).data.models.edges[0].node;
  expect(freeView.available).toBe(false);
  const unconfigured = (await pro.execute('{ model(id: "gpt-4o") { id available } }')).data.model;
  expect(unconfigured).toEqual({ id: 'gpt-4o', available: false });
});

test('vendors, modalities and catalog status count the catalog', async () => {
  const { vendors, modalities, catalogStatus } = (await gateway.anonymous().execute(CATALOG)).data;
  const enabled = (await gateway.anonymous().execute(MODELS, { first: 500 })).data.models.totalCount;
  expect(catalogStatus.modelCount).toBe(enabled);
  expect(catalogStatus.vendorCount).toBe(vendors.length);
  expect(vendors.reduce((sum: number, vendor: any) => sum + vendor.modelCount, 0)).toBe(enabled);
  expect(catalogStatus.topVendors).toEqual(vendors.slice(0, 5));
  expect(vendors[0].modelCount).toBeGreaterThanOrEqual(vendors[1].modelCount);
  expect(modalities.map((modality: any) => modality.name)).toEqual(expect.arrayContaining(['text', 'image', 'embedding']));
  expect(catalogStatus.priceCount).toBeLessThanOrEqual(catalogStatus.modelCount);
});
