import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import type { VoiceInfo, VoiceProviderInfo } from './voice.catalog.js';
import type { VoiceSettingsData } from './voice.service.js';

const VoiceProviderRef = builder.objectRef<{ provider: VoiceProviderInfo; models: string[] }>('VoiceProvider').implement({
  fields: (t) => ({
    id: t.id({ resolve: ({ provider }) => provider.id }),
    name: t.string({ resolve: ({ provider }) => provider.name }),
    models: t.stringList({ resolve: ({ models }) => models }),
  }),
});

const VoiceRef = builder.objectRef<VoiceInfo>('Voice').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.exposeID('provider'),
    name: t.exposeString('name'),
    gender: t.exposeString('gender', { nullable: true }),
  }),
});

const VoiceSettingsRef = builder.objectRef<VoiceSettingsData>('VoiceSettings').implement({
  fields: (t) => ({
    ttsProvider: t.exposeID('ttsProvider'),
    voice: t.exposeID('voice'),
    sttProvider: t.exposeID('sttProvider'),
    language: t.exposeString('language'),
  }),
});

const VoiceSettingsInput = builder.inputType('VoiceSettingsInput', {
  fields: (t) => ({
    ttsProvider: t.id(),
    voice: t.id(),
    sttProvider: t.id(),
    language: t.string(),
  }),
});

const TranscriptionRef = builder.objectRef<{ text: string; detectedLanguage: string | null; confidence: number | null }>('Transcription').implement({
  fields: (t) => ({
    text: t.exposeString('text'),
    detectedLanguage: t.exposeString('detectedLanguage', { nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
  }),
});

const SpeechRef = builder.objectRef<{ mimeType: string; audio: string }>('Speech').implement({
  fields: (t) => ({
    mimeType: t.exposeString('mimeType'),
    audio: t.exposeString('audio', { description: 'base64 audio' }),
  }),
});

const EphemeralKeyRef = builder.objectRef<{ value: string; expiresAt: Date; createdAt: Date }>('EphemeralKey').implement({
  fields: (t) => ({
    value: t.exposeString('value'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  ttsProviders: t.field({
    type: [VoiceProviderRef],
    description: 'Text-to-speech providers and their models.',
    authScopes: { public: true },
    resolve: (_root, _args, context) => context.services.voice.ttsProviders().map((provider) => ({ provider, models: provider.ttsModels })),
  }),
  sttProviders: t.field({
    type: [VoiceProviderRef],
    description: 'Speech-to-text providers and their models.',
    authScopes: { public: true },
    resolve: (_root, _args, context) => context.services.voice.sttProviders().map((provider) => ({ provider, models: provider.sttModels })),
  }),
  voices: t.field({
    type: [VoiceRef],
    authScopes: { public: true },
    args: { provider: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.services.voice.voices(String(args.provider)),
  }),
  voiceSettings: t.field({
    type: VoiceSettingsRef,
    description: 'Your voice preferences (defaults until you change them).',
    authScopes: { caller: true },
    resolve: (_root, _args, context) => context.services.voice.settings(requireActor(context)),
  }),
}));

builder.mutationFields((t) => ({
  updateVoiceSettings: t.field({
    type: VoiceSettingsRef,
    authScopes: { writer: true },
    args: { input: t.arg({ type: VoiceSettingsInput, required: true }) },
    resolve: (_root, { input }, context) =>
      context.services.voice.updateSettings(requireActor(context), {
        ttsProvider: input.ttsProvider ?? null,
        voice: input.voice ?? null,
        sttProvider: input.sttProvider ?? null,
        language: input.language ?? null,
      }),
  }),
  transcribe: t.field({
    type: TranscriptionRef,
    description: 'Speech to text (the voice_chat feature); metered as TRANSCRIPTION usage.',
    authScopes: { $all: { chatter: true, feature: 'voice_chat' } },
    args: { audio: t.arg({ type: 'File', required: true }), language: t.arg.string(), provider: t.arg.id() },
    resolve: (_root, args, context) =>
      context.services.voice.transcribe(requireActor(context), args.audio, { language: args.language, provider: args.provider ?? null }),
  }),
  synthesizeSpeech: t.field({
    type: SpeechRef,
    description: 'Text to speech (the voice_chat feature); metered as SPEECH usage.',
    authScopes: { $all: { chatter: true, feature: 'voice_chat' } },
    args: { text: t.arg.string({ required: true }), voice: t.arg.id(), provider: t.arg.id() },
    resolve: (_root, args, context) =>
      context.services.voice.synthesize(requireActor(context), args.text, {
        voice: args.voice ?? null,
        provider: args.provider ?? null,
      }),
  }),
  createEphemeralKey: t.field({
    type: EphemeralKeyRef,
    description: 'Short-lived key for realtime (audio) sessions; costs a fixed credit amount.',
    authScopes: { $all: { chatter: true, feature: 'realtime' } },
    args: { model: t.arg.id() },
    resolve: (_root, args, context) => context.services.ephemeralKeys.create(requireActor(context), args.model ?? null),
  }),
}));
