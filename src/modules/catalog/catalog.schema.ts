import { resolveArrayConnection } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.js';
import { countBy, filterModels } from './catalog.service.js';
import type { CatalogModel } from './catalog.types.js';

export const TierEnum = builder.enumType('Tier', { values: ['FREE', 'BASIC', 'PRO', 'ENTERPRISE'] as const });
export const PrivacyEnum = builder.enumType('Privacy', { values: ['PUBLIC', 'PRIVATE_ENCRYPTED', 'TEAM_ENCRYPTED'] as const });

export const ModelRef = builder.node(builder.objectRef<CatalogModel>('Model'), {
  description: 'A model from the catalog. Its id is the model name clients pass, e.g. "gpt-4o".',
  id: { resolve: (model) => model.id },
  loadOne: (id, context) => context.services.catalog.find(id) ?? null,
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'contextWindow' in value && 'minTier' in value,
  fields: (t) => ({
    displayName: t.exposeString('displayName'),
    vendor: t.exposeString('vendor'),
    provider: t.exposeString('provider'),
    contextWindow: t.exposeInt('contextWindow'),
    maxOutputTokens: t.exposeInt('maxOutputTokens'),
    inputPrice: t.exposeFloat('inputPrice', { nullable: true, description: 'USD per 1M input tokens.' }),
    outputPrice: t.exposeFloat('outputPrice', { nullable: true, description: 'USD per 1M output tokens.' }),
    imagePrice: t.float({
      nullable: true,
      description: 'USD per generated image, for image models (modality "image-output").',
      resolve: (model) => model.imagePrice ?? null,
    }),
    modalities: t.exposeStringList('modalities'),
    minTier: t.expose('minTier', { type: TierEnum }),
    privacy: t.expose('privacy', { type: PrivacyEnum }),
    enabled: t.exposeBoolean('enabled'),
    available: t.boolean({
      description: "Whether the caller's tier may use it and its provider is configured.",
      resolve: (model, _args, context) => context.services.catalog.isAvailable(model, context.viewer?.tier ?? 'FREE'),
    }),
  }),
});

const ModelFilterInput = builder.inputType('ModelFilter', {
  fields: (t) => ({
    pattern: t.string({ description: 'Case-insensitive substring of the id or name, or a glob such as "gpt-4*".' }),
    vendor: t.string(),
    modality: t.string({ description: 'text, image, audio, video or embedding.' }),
    includeDisabled: t.boolean(),
  }),
});

const VendorStatsRef = builder.objectRef<{ name: string; modelCount: number }>('VendorStats').implement({
  fields: (t) => ({ name: t.exposeString('name'), modelCount: t.exposeInt('modelCount') }),
});
const ModalityStatsRef = builder.objectRef<{ name: string; modelCount: number }>('ModalityStats').implement({
  fields: (t) => ({ name: t.exposeString('name'), modelCount: t.exposeInt('modelCount') }),
});

interface CatalogStatusShape {
  vendorCount: number;
  modelCount: number;
  priceCount: number;
  topVendors: Array<{ name: string; modelCount: number }>;
}

const CatalogStatusRef = builder.objectRef<CatalogStatusShape>('CatalogStatus').implement({
  fields: (t) => ({
    vendorCount: t.exposeInt('vendorCount'),
    modelCount: t.exposeInt('modelCount'),
    priceCount: t.exposeInt('priceCount', { description: 'Models with a published price.' }),
    topVendors: t.field({ type: [VendorStatsRef], resolve: (status) => status.topVendors }),
  }),
});

const enabledModels = (context: { services: { catalog: { all(): CatalogModel[] } } }) => context.services.catalog.all().filter((model) => model.enabled);

builder.queryFields((t) => ({
  models: t.connection(
    {
      type: ModelRef,
      description: 'Public: the model catalog, filtered and paged.',
      authScopes: { public: true },
      args: { filter: t.arg({ type: ModelFilterInput }) },
      resolve: (_root, args, context) => {
        const models = filterModels(context.services.catalog.all(), args.filter);
        return { ...resolveArrayConnection({ args }, models), totalCount: models.length };
      },
    },
    {
      name: 'ModelConnection',
      fields: (connection) => ({ totalCount: connection.int({ resolve: (parent) => (parent as unknown as { totalCount: number }).totalCount }) }),
    },
    { name: 'ModelEdge' },
  ),
  model: t.field({
    type: ModelRef,
    nullable: true,
    authScopes: { public: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.catalog.find(String(args.id)) ?? null,
  }),
  vendors: t.field({
    type: [VendorStatsRef],
    authScopes: { public: true },
    resolve: (_root, _args, context) => countBy(enabledModels(context), (model) => [model.vendor]),
  }),
  modalities: t.field({
    type: [ModalityStatsRef],
    authScopes: { public: true },
    resolve: (_root, _args, context) => countBy(enabledModels(context), (model) => model.modalities),
  }),
  catalogStatus: t.field({
    type: CatalogStatusRef,
    description: 'Catalog totals: vendor, model and price counts, top vendors.',
    authScopes: { public: true },
    resolve: (_root, _args, context) => {
      const models = enabledModels(context);
      const vendors = countBy(models, (model) => [model.vendor]);
      return {
        vendorCount: vendors.length,
        modelCount: models.length,
        priceCount: models.filter((model) => model.inputPrice !== null || model.outputPrice !== null).length,
        topVendors: vendors.slice(0, 5),
      };
    },
  }),
}));
