import type { CatalogModel } from './catalog.types.js';

type Entry = Omit<CatalogModel, 'enabled' | 'privacy' | 'displayName'> &
  Partial<Pick<CatalogModel, 'enabled' | 'privacy' | 'displayName'>>;

const TEXT = ['text'];
const VISION = ['text', 'image'];

/**
 * The models the gateway knows out of the box. Prices are USD per 1M tokens as
 * published by each vendor; a providers file can add models or re-route these.
 */
const entries: Entry[] = [
  // Built-in demo provider: always available, deterministic, no network.
  { id: 'demo', displayName: 'Demo', vendor: 'Demo', provider: 'demo', contextWindow: 32_000, maxOutputTokens: 4_096, inputPrice: 0.5, outputPrice: 1.5, modalities: [...VISION, 'reasoning'], minTier: 'FREE' },
  { id: 'demo-mini', displayName: 'Demo Mini (text only, small context)', vendor: 'Demo', provider: 'demo', contextWindow: 4_096, maxOutputTokens: 1_024, inputPrice: 0.1, outputPrice: 0.3, modalities: TEXT, minTier: 'FREE' },
  { id: 'demo-private', displayName: 'Demo Private (encrypted)', vendor: 'Demo', provider: 'demo', contextWindow: 32_000, maxOutputTokens: 4_096, inputPrice: 1, outputPrice: 3, modalities: VISION, minTier: 'PRO', privacy: 'PRIVATE_ENCRYPTED' },
  { id: 'demo-team', displayName: 'Demo Team (team encrypted)', vendor: 'Demo', provider: 'demo', contextWindow: 32_000, maxOutputTokens: 4_096, inputPrice: 1, outputPrice: 3, modalities: VISION, minTier: 'ENTERPRISE', privacy: 'TEAM_ENCRYPTED' },
  { id: 'demo-realtime', displayName: 'Demo Realtime (voice sessions)', vendor: 'Demo', provider: 'demo', contextWindow: 32_000, maxOutputTokens: 4_096, inputPrice: 4, outputPrice: 16, modalities: ['text', 'audio', 'realtime'], minTier: 'PRO' },
  { id: 'demo-embed', displayName: 'Demo Embeddings', vendor: 'Demo', provider: 'demo', contextWindow: 8_192, maxOutputTokens: 0, inputPrice: 0.02, outputPrice: null, modalities: ['embedding'], minTier: 'FREE' },

  { id: 'gpt-5', displayName: 'GPT-5', vendor: 'OpenAI', provider: 'openai', contextWindow: 400_000, maxOutputTokens: 128_000, inputPrice: 1.25, outputPrice: 10, modalities: [...VISION, 'reasoning'], minTier: 'PRO' },
  { id: 'gpt-5-mini', displayName: 'GPT-5 mini', vendor: 'OpenAI', provider: 'openai', contextWindow: 400_000, maxOutputTokens: 128_000, inputPrice: 0.25, outputPrice: 2, modalities: [...VISION, 'reasoning'], minTier: 'BASIC' },
  { id: 'gpt-4.1', displayName: 'GPT-4.1', vendor: 'OpenAI', provider: 'openai', contextWindow: 1_047_576, maxOutputTokens: 32_768, inputPrice: 2, outputPrice: 8, modalities: VISION, minTier: 'PRO' },
  { id: 'gpt-4.1-mini', displayName: 'GPT-4.1 mini', vendor: 'OpenAI', provider: 'openai', contextWindow: 1_047_576, maxOutputTokens: 32_768, inputPrice: 0.4, outputPrice: 1.6, modalities: VISION, minTier: 'BASIC' },
  { id: 'gpt-4.1-nano', displayName: 'GPT-4.1 nano', vendor: 'OpenAI', provider: 'openai', contextWindow: 1_047_576, maxOutputTokens: 32_768, inputPrice: 0.1, outputPrice: 0.4, modalities: VISION, minTier: 'FREE' },
  { id: 'gpt-4o', displayName: 'GPT-4o', vendor: 'OpenAI', provider: 'openai', contextWindow: 128_000, maxOutputTokens: 16_384, inputPrice: 2.5, outputPrice: 10, modalities: VISION, minTier: 'PRO' },
  { id: 'gpt-4o-mini', displayName: 'GPT-4o mini', vendor: 'OpenAI', provider: 'openai', contextWindow: 128_000, maxOutputTokens: 16_384, inputPrice: 0.15, outputPrice: 0.6, modalities: VISION, minTier: 'FREE' },
  { id: 'o3', displayName: 'o3', vendor: 'OpenAI', provider: 'openai', contextWindow: 200_000, maxOutputTokens: 100_000, inputPrice: 2, outputPrice: 8, modalities: [...VISION, 'reasoning'], minTier: 'PRO' },
  { id: 'o4-mini', displayName: 'o4-mini', vendor: 'OpenAI', provider: 'openai', contextWindow: 200_000, maxOutputTokens: 100_000, inputPrice: 1.1, outputPrice: 4.4, modalities: [...VISION, 'reasoning'], minTier: 'BASIC' },
  { id: 'gpt-realtime', displayName: 'GPT Realtime', vendor: 'OpenAI', provider: 'openai', contextWindow: 32_000, maxOutputTokens: 4_096, inputPrice: 4, outputPrice: 16, modalities: ['text', 'audio', 'realtime'], minTier: 'PRO' },
  { id: 'gpt-realtime-mini', displayName: 'GPT Realtime mini', vendor: 'OpenAI', provider: 'openai', contextWindow: 32_000, maxOutputTokens: 4_096, inputPrice: 0.6, outputPrice: 2.4, modalities: ['text', 'audio', 'realtime'], minTier: 'PRO' },
  { id: 'text-embedding-3-small', displayName: 'Text Embedding 3 Small', vendor: 'OpenAI', provider: 'openai', contextWindow: 8_191, maxOutputTokens: 0, inputPrice: 0.02, outputPrice: null, modalities: ['embedding'], minTier: 'FREE' },

  { id: 'claude-opus-4-1', displayName: 'Claude Opus 4.1', vendor: 'Anthropic', provider: 'anthropic', contextWindow: 200_000, maxOutputTokens: 32_000, inputPrice: 15, outputPrice: 75, modalities: [...VISION, 'reasoning'], minTier: 'ENTERPRISE' },
  { id: 'claude-sonnet-4-5', displayName: 'Claude Sonnet 4.5', vendor: 'Anthropic', provider: 'anthropic', contextWindow: 200_000, maxOutputTokens: 64_000, inputPrice: 3, outputPrice: 15, modalities: [...VISION, 'reasoning'], minTier: 'PRO' },
  { id: 'claude-haiku-4-5', displayName: 'Claude Haiku 4.5', vendor: 'Anthropic', provider: 'anthropic', contextWindow: 200_000, maxOutputTokens: 64_000, inputPrice: 1, outputPrice: 5, modalities: [...VISION, 'reasoning'], minTier: 'BASIC' },
  { id: 'claude-3-5-haiku-latest', displayName: 'Claude 3.5 Haiku', vendor: 'Anthropic', provider: 'anthropic', contextWindow: 200_000, maxOutputTokens: 8_192, inputPrice: 0.8, outputPrice: 4, modalities: TEXT, minTier: 'BASIC' },

  { id: 'gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', vendor: 'Google', provider: 'google', contextWindow: 1_048_576, maxOutputTokens: 65_536, inputPrice: 1.25, outputPrice: 10, modalities: ['text', 'image', 'audio', 'video', 'reasoning'], minTier: 'PRO' },
  { id: 'gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', vendor: 'Google', provider: 'google', contextWindow: 1_048_576, maxOutputTokens: 65_536, inputPrice: 0.3, outputPrice: 2.5, modalities: ['text', 'image', 'audio', 'video', 'reasoning'], minTier: 'BASIC' },
  { id: 'gemini-2.5-flash-lite', displayName: 'Gemini 2.5 Flash-Lite', vendor: 'Google', provider: 'google', contextWindow: 1_048_576, maxOutputTokens: 65_536, inputPrice: 0.1, outputPrice: 0.4, modalities: VISION, minTier: 'FREE' },
  { id: 'gemini-2.0-flash', displayName: 'Gemini 2.0 Flash', vendor: 'Google', provider: 'google', contextWindow: 1_048_576, maxOutputTokens: 8_192, inputPrice: 0.1, outputPrice: 0.4, modalities: VISION, minTier: 'FREE' },

  { id: 'mistral-large-latest', displayName: 'Mistral Large', vendor: 'Mistral', provider: 'mistral', contextWindow: 131_072, maxOutputTokens: 8_192, inputPrice: 2, outputPrice: 6, modalities: TEXT, minTier: 'PRO' },
  { id: 'mistral-medium-latest', displayName: 'Mistral Medium 3', vendor: 'Mistral', provider: 'mistral', contextWindow: 131_072, maxOutputTokens: 8_192, inputPrice: 0.4, outputPrice: 2, modalities: VISION, minTier: 'BASIC' },
  { id: 'mistral-small-latest', displayName: 'Mistral Small 3.2', vendor: 'Mistral', provider: 'mistral', contextWindow: 131_072, maxOutputTokens: 8_192, inputPrice: 0.1, outputPrice: 0.3, modalities: VISION, minTier: 'FREE' },
  { id: 'codestral-latest', displayName: 'Codestral', vendor: 'Mistral', provider: 'mistral', contextWindow: 256_000, maxOutputTokens: 8_192, inputPrice: 0.3, outputPrice: 0.9, modalities: TEXT, minTier: 'BASIC' },

  { id: 'llama-3.3-70b-versatile', displayName: 'Llama 3.3 70B (Groq)', vendor: 'Meta', provider: 'groq', contextWindow: 131_072, maxOutputTokens: 32_768, inputPrice: 0.59, outputPrice: 0.79, modalities: TEXT, minTier: 'BASIC' },
  { id: 'llama-3.1-8b-instant', displayName: 'Llama 3.1 8B Instant (Groq)', vendor: 'Meta', provider: 'groq', contextWindow: 131_072, maxOutputTokens: 131_072, inputPrice: 0.05, outputPrice: 0.08, modalities: TEXT, minTier: 'FREE' },
  { id: 'meta-llama/llama-4-maverick-17b-128e-instruct', displayName: 'Llama 4 Maverick (Groq)', vendor: 'Meta', provider: 'groq', contextWindow: 131_072, maxOutputTokens: 8_192, inputPrice: 0.2, outputPrice: 0.6, modalities: VISION, minTier: 'BASIC' },
  { id: 'qwen/qwen3-32b', displayName: 'Qwen3 32B (Groq)', vendor: 'Alibaba', provider: 'groq', contextWindow: 131_072, maxOutputTokens: 40_960, inputPrice: 0.29, outputPrice: 0.59, modalities: [...TEXT, 'reasoning'], minTier: 'BASIC' },
  { id: 'moonshotai/kimi-k2-instruct', displayName: 'Kimi K2 (Groq)', vendor: 'Moonshot AI', provider: 'groq', contextWindow: 131_072, maxOutputTokens: 16_384, inputPrice: 1, outputPrice: 3, modalities: TEXT, minTier: 'PRO' },

  { id: 'deepseek-chat', displayName: 'DeepSeek V3.2 Chat', vendor: 'DeepSeek', provider: 'deepseek', contextWindow: 128_000, maxOutputTokens: 8_192, inputPrice: 0.28, outputPrice: 0.42, modalities: TEXT, minTier: 'FREE' },
  { id: 'deepseek-reasoner', displayName: 'DeepSeek V3.2 Reasoner', vendor: 'DeepSeek', provider: 'deepseek', contextWindow: 128_000, maxOutputTokens: 64_000, inputPrice: 0.28, outputPrice: 0.42, modalities: [...TEXT, 'reasoning'], minTier: 'BASIC' },

  { id: 'grok-4', displayName: 'Grok 4', vendor: 'xAI', provider: 'xai', contextWindow: 256_000, maxOutputTokens: 64_000, inputPrice: 3, outputPrice: 15, modalities: VISION, minTier: 'PRO' },
  { id: 'grok-4-fast-non-reasoning', displayName: 'Grok 4 Fast', vendor: 'xAI', provider: 'xai', contextWindow: 2_000_000, maxOutputTokens: 30_000, inputPrice: 0.2, outputPrice: 0.5, modalities: VISION, minTier: 'BASIC' },
  { id: 'grok-3-mini', displayName: 'Grok 3 mini', vendor: 'xAI', provider: 'xai', contextWindow: 131_072, maxOutputTokens: 16_384, inputPrice: 0.3, outputPrice: 0.5, modalities: [...TEXT, 'reasoning'], minTier: 'BASIC' },

  { id: 'command-a-03-2025', displayName: 'Command A', vendor: 'Cohere', provider: 'cohere', contextWindow: 256_000, maxOutputTokens: 8_000, inputPrice: 2.5, outputPrice: 10, modalities: TEXT, minTier: 'PRO' },
  { id: 'command-r-plus-08-2024', displayName: 'Command R+', vendor: 'Cohere', provider: 'cohere', contextWindow: 128_000, maxOutputTokens: 4_000, inputPrice: 2.5, outputPrice: 10, modalities: TEXT, minTier: 'PRO' },
  { id: 'command-r-08-2024', displayName: 'Command R', vendor: 'Cohere', provider: 'cohere', contextWindow: 128_000, maxOutputTokens: 4_000, inputPrice: 0.15, outputPrice: 0.6, modalities: TEXT, minTier: 'BASIC' },
  { id: 'command-r7b-12-2024', displayName: 'Command R7B', vendor: 'Cohere', provider: 'cohere', contextWindow: 128_000, maxOutputTokens: 4_000, inputPrice: 0.0375, outputPrice: 0.15, modalities: TEXT, minTier: 'FREE' },
];

export const builtInModels: CatalogModel[] = entries.map((entry) => ({
  displayName: entry.id,
  privacy: 'PUBLIC',
  enabled: true,
  ...entry,
}));

/** OpenAI-compatible endpoints of the vendors above, configured by `<ID>_API_KEY`. */
export const knownProviders: Array<{ id: string; name: string; baseURL: string; keyEnv: string[] }> = [
  { id: 'openai', name: 'OpenAI', baseURL: 'https://api.openai.com/v1', keyEnv: ['OPENAI_API_KEY'] },
  { id: 'anthropic', name: 'Anthropic', baseURL: 'https://api.anthropic.com/v1/', keyEnv: ['ANTHROPIC_API_KEY'] },
  { id: 'google', name: 'Google Gemini', baseURL: 'https://generativelanguage.googleapis.com/v1beta/openai/', keyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'] },
  { id: 'mistral', name: 'Mistral', baseURL: 'https://api.mistral.ai/v1', keyEnv: ['MISTRAL_API_KEY'] },
  { id: 'groq', name: 'Groq', baseURL: 'https://api.groq.com/openai/v1', keyEnv: ['GROQ_API_KEY'] },
  { id: 'deepseek', name: 'DeepSeek', baseURL: 'https://api.deepseek.com/v1', keyEnv: ['DEEPSEEK_API_KEY'] },
  { id: 'xai', name: 'xAI', baseURL: 'https://api.x.ai/v1', keyEnv: ['XAI_API_KEY'] },
  { id: 'cohere', name: 'Cohere', baseURL: 'https://api.cohere.ai/compatibility/v1', keyEnv: ['COHERE_API_KEY'] },
];
