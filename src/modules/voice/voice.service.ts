import { randomUUID } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import { toFile } from 'openai';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Config } from '../../lib/config.js';
import { badInput, UserFacingError } from '../../lib/errors.js';
import { providerFailure } from '../../lib/llm/provider-errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { Actor } from '../identity/actor.js';
import type { UsageService } from '../usage/usage.service.js';
import {
  DEFAULT_SPEECH_USD_PER_MILLION_CHARACTERS,
  DEFAULT_TRANSCRIPTION_USD_PER_MINUTE,
  SPEECH_USD_PER_MILLION_CHARACTERS,
  TRANSCRIPTION_USD_PER_MINUTE,
  voiceProviders,
  type VoiceProviderInfo,
} from './voice.catalog.js';

export interface VoiceSettingsData {
  ttsProvider: string;
  voice: string;
  sttProvider: string;
  language: string;
}

/** The longest text one speech request may carry (OpenAI's limit). */
export const MAX_SPEECH_CHARACTERS = 4_096;
/** Compressed speech is rarely below 32 kbit/s, so bytes / 4000 bounds the seconds a file can hold. */
const MIN_BYTES_PER_SECOND = 4_000;
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const AUDIO_CONTAINERS = new Set(['video/webm', 'video/mp4', 'video/ogg', 'application/ogg']);

type Kind = 'tts' | 'stt';

export function createVoiceService(deps: { prisma: PrismaClient; registry: ProviderRegistry; config: Config; credits: CreditsService; usage: UsageService }) {
  const { prisma, credits } = deps;
  const providers = voiceProviders(deps.config.providers);
  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  const modelsOf = (provider: VoiceProviderInfo, kind: Kind) => (kind === 'tts' ? provider.ttsModels : provider.sttModels);
  // A configured provider is preferred to the demo.
  const preferred = (kind: Kind) => [...providers].reverse().find((provider) => modelsOf(provider, kind).length > 0)!;

  function defaults(): VoiceSettingsData {
    const tts = preferred('tts');
    return { ttsProvider: tts.id, voice: tts.voices[0]?.id ?? 'default', sttProvider: preferred('stt').id, language: 'en' };
  }

  function requireProvider(id: string, kind: Kind): VoiceProviderInfo {
    const provider = byId.get(id);
    if (!provider || modelsOf(provider, kind).length === 0) throw badInput(`voice.unknown${kind === 'tts' ? 'Tts' : 'Stt'}Provider`, { provider: id });
    return provider;
  }

  function requireLanguage(language: string) {
    if (!LANGUAGE.test(language)) throw badInput('voice.language', { language });
    return language;
  }

  async function settings(actor: Actor): Promise<VoiceSettingsData> {
    const stored = await prisma.voiceSettings.findUnique({ where: { userId: actor.userId } });
    return stored ?? defaults();
  }

  /** Reserves credits for a provider call, runs it, then charges what it used (nothing when it fails). */
  async function metered<T>(actor: Actor, reservation: number, call: () => Promise<T>, usedCredits: (result: T) => number) {
    const reference = randomUUID();
    await credits.reserve(prisma, actor.billedUserId, reservation, reference);
    let result: T;
    try {
      result = await call();
    } catch (error) {
      await credits.settle(actor.billedUserId, reservation, 0, reference);
      throw providerFailure(error);
    }
    await credits.settle(actor.billedUserId, reservation, usedCredits(result), reference);
    return result;
  }

  return {
    ttsProviders: () => providers.filter((provider) => provider.ttsModels.length > 0),
    sttProviders: () => providers.filter((provider) => provider.sttModels.length > 0),

    voices(providerId: string) {
      return requireProvider(providerId, 'tts').voices;
    },

    settings,

    async updateSettings(actor: Actor, input: Partial<Record<keyof VoiceSettingsData, string | null>>): Promise<VoiceSettingsData> {
      const current = await settings(actor);
      const tts = requireProvider(input.ttsProvider ?? current.ttsProvider, 'tts');
      // Switching provider without naming a voice picks that provider's first voice.
      const voice = input.voice ?? (tts.id === current.ttsProvider ? current.voice : (tts.voices[0]?.id ?? 'default'));
      if (tts.voices.length > 0 && !tts.voices.some((candidate) => candidate.id === voice)) throw badInput('voice.unknownVoice', { voice, provider: tts.id });
      const next = {
        ttsProvider: tts.id,
        voice,
        sttProvider: requireProvider(input.sttProvider ?? current.sttProvider, 'stt').id,
        language: requireLanguage(input.language ?? current.language),
      };
      await prisma.voiceSettings.upsert({ where: { userId: actor.userId }, create: { userId: actor.userId, ...next }, update: next });
      return next;
    },

    async transcribe(actor: Actor, audio: File, options: { language?: string | null; provider?: string | null }) {
      if (audio.size > deps.config.maxFileBytes) {
        throw new UserFacingError('PAYLOAD_TOO_LARGE', 'files.tooLarge', { limit: deps.config.maxFileBytes }, { limit: deps.config.maxFileBytes });
      }
      const bytes = new Uint8Array(await audio.arrayBuffer());
      const sniffed = bytes.length > 0 ? await fileTypeFromBuffer(bytes) : undefined;
      if (!sniffed || !(sniffed.mime.startsWith('audio/') || AUDIO_CONTAINERS.has(sniffed.mime))) {
        throw badInput('voice.notAudio', { type: sniffed?.mime ?? (bytes.length === 0 ? 'empty' : 'unknown') });
      }
      const preferences = await settings(actor);
      const provider = requireProvider(options.provider ?? preferences.sttProvider, 'stt');
      const language = requireLanguage(options.language ?? preferences.language);
      const model = provider.sttModels[0]!;
      const client = deps.registry.clientFor(provider.id);
      if (!client) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model });
      const perMinute = TRANSCRIPTION_USD_PER_MINUTE[model] ?? DEFAULT_TRANSCRIPTION_USD_PER_MINUTE;
      const costOf = (seconds: number) => (Math.max(seconds, 1) / 60) * perMinute;
      const startedAt = Date.now();
      // Only whisper-style models report the duration and language.
      const verbose = model === 'whisper-1' || provider.id === 'demo';
      try {
        const result = await metered(
          actor,
          credits.creditsFor(costOf(bytes.length / MIN_BYTES_PER_SECOND)),
          async () =>
            client.audio.transcriptions.create({
              file: await toFile(bytes, audio.name || `audio.${sniffed.ext}`, { type: sniffed.mime }),
              model,
              language: language.split('-')[0],
              response_format: verbose ? 'verbose_json' : 'json',
            }) as Promise<{ text: string; language?: string; duration?: number; segments?: Array<{ avg_logprob: number }> }>,
          (answer) => credits.creditsFor(costOf(answer.duration ?? bytes.length / MIN_BYTES_PER_SECOND)),
        );
        const seconds = result.duration ?? bytes.length / MIN_BYTES_PER_SECOND;
        await deps.usage.record({ actor, modelId: model, action: 'TRANSCRIPTION', cost: costOf(seconds), success: true, latencyMs: Date.now() - startedAt });
        const logprobs = result.segments?.map((segment) => segment.avg_logprob) ?? [];
        return {
          text: result.text,
          detectedLanguage: result.language ?? null,
          confidence: logprobs.length > 0 ? Math.exp(logprobs.reduce((sum, value) => sum + value, 0) / logprobs.length) : null,
        };
      } catch (error) {
        if ((error as UserFacingError).code?.startsWith('PROVIDER')) {
          await deps.usage.record({ actor, modelId: model, action: 'TRANSCRIPTION', cost: 0, success: false, latencyMs: Date.now() - startedAt });
        }
        throw error;
      }
    },

    async synthesize(actor: Actor, text: string, options: { voice?: string | null; provider?: string | null }) {
      if (text.trim().length === 0 || text.length > MAX_SPEECH_CHARACTERS) throw badInput('voice.textLength', { max: MAX_SPEECH_CHARACTERS });
      const preferences = await settings(actor);
      const provider = requireProvider(options.provider ?? preferences.ttsProvider, 'tts');
      const voice = options.voice ?? (provider.id === preferences.ttsProvider ? preferences.voice : (provider.voices[0]?.id ?? 'default'));
      if (provider.voices.length > 0 && !provider.voices.some((candidate) => candidate.id === voice))
        throw badInput('voice.unknownVoice', { voice, provider: provider.id });
      const model = provider.ttsModels[0]!;
      const client = deps.registry.clientFor(provider.id);
      if (!client) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model });
      const cost = (text.length / 1_000_000) * (SPEECH_USD_PER_MILLION_CHARACTERS[model] ?? DEFAULT_SPEECH_USD_PER_MILLION_CHARACTERS);
      const startedAt = Date.now();
      try {
        const audio = await metered(
          actor,
          credits.creditsFor(cost),
          async () => {
            const response = await client.audio.speech.create({
              model,
              voice: voice as never,
              input: text,
              response_format: provider.id === 'demo' ? 'wav' : 'mp3',
            });
            return { bytes: Buffer.from(await response.arrayBuffer()), mimeType: response.headers.get('content-type')?.split(';')[0] ?? 'audio/mpeg' };
          },
          () => credits.creditsFor(cost),
        );
        await deps.usage.record({ actor, modelId: model, action: 'SPEECH', inputTokens: text.length, cost, success: true, latencyMs: Date.now() - startedAt });
        return { mimeType: audio.mimeType, audio: audio.bytes.toString('base64') };
      } catch (error) {
        if ((error as UserFacingError).code?.startsWith('PROVIDER')) {
          await deps.usage.record({ actor, modelId: model, action: 'SPEECH', cost: 0, success: false, latencyMs: Date.now() - startedAt });
        }
        throw error;
      }
    },
  };
}

export type VoiceService = ReturnType<typeof createVoiceService>;
