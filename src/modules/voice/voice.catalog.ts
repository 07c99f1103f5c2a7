import type { ProviderConfig } from '../../lib/config.js';

export interface VoiceInfo {
  id: string;
  provider: string;
  name: string;
  gender: string | null;
}

export interface VoiceProviderInfo {
  id: string;
  name: string;
  ttsModels: string[];
  sttModels: string[];
  voices: VoiceInfo[];
}

const openAiVoices: Array<[string, string]> = [
  ['alloy', 'neutral'],
  ['ash', 'male'],
  ['ballad', 'male'],
  ['coral', 'female'],
  ['echo', 'male'],
  ['fable', 'neutral'],
  ['nova', 'female'],
  ['onyx', 'male'],
  ['sage', 'female'],
  ['shimmer', 'female'],
  ['verse', 'male'],
];

const capitalized = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);

const demo: VoiceProviderInfo = {
  id: 'demo',
  name: 'Built-in demo',
  ttsModels: ['demo-tts'],
  sttModels: ['demo-stt'],
  voices: [
    { id: 'demo-alloy', provider: 'demo', name: 'Demo Alloy', gender: 'neutral' },
    { id: 'demo-nova', provider: 'demo', name: 'Demo Nova', gender: 'female' },
  ],
};

const openAi = (id: string, name: string): VoiceProviderInfo => ({
  id,
  name,
  ttsModels: ['gpt-4o-mini-tts', 'tts-1', 'tts-1-hd'],
  sttModels: ['gpt-4o-transcribe', 'gpt-4o-mini-transcribe', 'whisper-1'],
  voices: openAiVoices.map(([voice, gender]) => ({ id: voice, provider: id, name: capitalized(voice), gender })),
});

/** Speech providers: the demo always, OpenAI when configured, and any provider whose config describes its voice endpoints. */
export function voiceProviders(providers: ProviderConfig[]): VoiceProviderInfo[] {
  const found = [demo];
  for (const provider of providers) {
    if (provider.voice) {
      found.push({
        id: provider.id,
        name: provider.name ?? provider.id,
        ttsModels: provider.voice.ttsModels ?? [],
        sttModels: provider.voice.sttModels ?? [],
        voices: (provider.voice.voices ?? []).map((voice) => ({
          id: voice.id,
          provider: provider.id,
          name: voice.name ?? voice.id,
          gender: voice.gender ?? null,
        })),
      });
    } else if (provider.id === 'openai') {
      found.push(openAi(provider.id, provider.name ?? 'OpenAI'));
    }
  }
  return found;
}

/** USD per 1M characters of speech, and per minute of transcription, as OpenAI prices them (the demo likewise). */
export const SPEECH_USD_PER_MILLION_CHARACTERS: Record<string, number> = { 'tts-1-hd': 30 };
export const DEFAULT_SPEECH_USD_PER_MILLION_CHARACTERS = 15;
export const TRANSCRIPTION_USD_PER_MINUTE: Record<string, number> = { 'gpt-4o-mini-transcribe': 0.003 };
export const DEFAULT_TRANSCRIPTION_USD_PER_MINUTE = 0.006;
