import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';

const PROVIDERS = /* GraphQL */ `{ ttsProviders { id name models } sttProviders { id name models } }`;
const VOICES = /* GraphQL */ `query ($provider: ID!) { voices(provider: $provider) { id provider name gender } }`;
const SETTINGS = /* GraphQL */ `{ voiceSettings { ttsProvider voice sttProvider language } }`;
const UPDATE_SETTINGS = /* GraphQL */ `mutation ($input: VoiceSettingsInput!) { updateVoiceSettings(input: $input) { ttsProvider voice sttProvider language } }`;
const SPEAK = /* GraphQL */ `mutation ($text: String!, $voice: ID, $provider: ID) { synthesizeSpeech(text: $text, voice: $voice, provider: $provider) { mimeType audio } }`;
const TRANSCRIBE = /* GraphQL */ `mutation ($audio: File!, $language: String) { transcribe(audio: $audio, language: $language) { text detectedLanguage confidence } }`;
const EPHEMERAL = /* GraphQL */ `mutation ($model: ID) { createEphemeralKey(model: $model) { value expiresAt createdAt } }`;
const USAGE = /* GraphQL */ `{ usage { recentActivity { model action cost success } } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ ephemeralKeyCreditCost: 10_000 });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const balanceOf = async (userId: string) => (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;

describe('voice catalog and settings', () => {
  test('lists speech providers with their models, and a provider’s voices', async () => {
    const guest = gateway.guest();
    const { data } = await guest.execute(PROVIDERS);
    expect(data.ttsProviders).toEqual([
      { id: 'demo', name: 'Built-in demo', models: ['demo-tts'] },
      { id: 'fake', name: 'Fake upstream', models: ['fake-tts'] },
    ]);
    expect(data.sttProviders.map((provider: any) => provider.id)).toEqual(['demo', 'fake']);
    expect((await guest.execute(VOICES, { provider: 'fake' })).data.voices).toEqual([
      { id: 'fake-voice', provider: 'fake', name: 'Fake Voice', gender: 'female' },
      { id: 'fake-deep', provider: 'fake', name: 'Fake Deep', gender: 'male' },
    ]);
    expect(codeOf(await guest.execute(VOICES, { provider: 'nobody' }))).toBe('BAD_USER_INPUT');
  });

  test('settings default to the configured provider, change, persist, and refuse what does not exist', async () => {
    const user = await gateway.user({ tier: 'BASIC' });
    expect((await user.execute(SETTINGS)).data.voiceSettings).toEqual({ ttsProvider: 'fake', voice: 'fake-voice', sttProvider: 'fake', language: 'en' });

    const changed = await user.execute(UPDATE_SETTINGS, { input: { voice: 'fake-deep', language: 'pt-BR' } });
    expect(changed.data.updateVoiceSettings).toEqual({ ttsProvider: 'fake', voice: 'fake-deep', sttProvider: 'fake', language: 'pt-BR' });
    // Another provider without a voice named: that provider's first voice.
    const switched = await user.execute(UPDATE_SETTINGS, { input: { ttsProvider: 'demo' } });
    expect(switched.data.updateVoiceSettings).toMatchObject({ ttsProvider: 'demo', voice: 'demo-alloy', language: 'pt-BR' });
    expect((await user.execute(SETTINGS)).data.voiceSettings).toEqual(switched.data.updateVoiceSettings);

    for (const input of [{ voice: 'fake-voice' }, { sttProvider: 'nobody' }, { language: 'English please' }]) {
      const refused = await user.execute(UPDATE_SETTINGS, { input });
      expect(codeOf(refused), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    }
    expect((await user.execute(SETTINGS)).data.voiceSettings).toEqual(switched.data.updateVoiceSettings);
    // Settings are per user.
    expect((await (await gateway.user({ tier: 'BASIC' })).execute(SETTINGS)).data.voiceSettings.voice).toBe('fake-voice');
  });
});

describe('speech in and out', () => {
  test('speech comes back as audio from the provider, and its transcription returns the text; both are metered', async () => {
    const user = await gateway.user({ tier: 'BASIC', credits: 1_000_000 });
    const text = 'The quick brown fox jumps over the lazy dog';
    const spoken = await user.execute(SPEAK, { text });
    expect(spoken.errors).toBeUndefined();
    expect(spoken.data.synthesizeSpeech.mimeType).toBe('audio/wav');
    const audio = Buffer.from(spoken.data.synthesizeSpeech.audio, 'base64');
    expect(audio.toString('ascii', 0, 4)).toBe('RIFF');
    const speechRequest = gateway.upstream.requests.find((request) => request.path.endsWith('/audio/speech'))!;
    expect(speechRequest.body).toMatchObject({ model: 'fake-tts', voice: 'fake-voice', input: text });
    // $15 per 1M characters.
    const speechCredits = Math.ceil(text.length * 15);
    expect(await balanceOf(user.id)).toBe(1_000_000 - speechCredits);

    const heard = await user.upload(TRANSCRIBE, { audio: null, language: 'en' }, { audio: new File([audio], 'fox.wav', { type: 'audio/wav' }) });
    expect(heard.errors).toBeUndefined();
    expect(heard.data.transcribe).toMatchObject({ text, detectedLanguage: 'en' });
    expect(heard.data.transcribe.confidence).toBeGreaterThan(0.9);
    const transcription = gateway.upstream.requests.find((request) => request.path.endsWith('/audio/transcriptions'))!;
    expect(transcription.body).toMatchObject({ model: 'whisper-1', language: 'en', response_format: 'verbose_json' });
    // Nine words at 0.4 s is 3.6 s, billed as at least a second, at $0.006 a minute.
    const transcriptionCredits = Math.ceil((3.6 / 60) * 0.006 * 1_000_000);
    expect(await balanceOf(user.id)).toBe(1_000_000 - speechCredits - transcriptionCredits);

    const activity = (await user.execute(USAGE)).data.usage.recentActivity;
    expect(activity.map((event: any) => [event.action, event.model, event.success])).toEqual([
      ['TRANSCRIPTION', 'whisper-1', true],
      ['SPEECH', 'fake-tts', true],
    ]);
  });

  test('voice needs the voice_chat feature: a FREE caller is FORBIDDEN and the provider is not called', async () => {
    const result = await gateway.guest().execute(SPEAK, { text: 'hello' });
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  test('a file that is not audio is refused before anything is charged', async () => {
    const user = await gateway.user({ tier: 'BASIC', credits: 50_000 });
    const result = await user.upload(TRANSCRIBE, { audio: null }, { audio: new File(['just some words'], 'speech.mp3', { type: 'audio/mpeg' }) });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('not an audio file');
    expect(await balanceOf(user.id)).toBe(50_000);
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  test('a failing provider is PROVIDER_ERROR and costs nothing', async () => {
    const user = await gateway.user({ tier: 'BASIC', credits: 50_000 });
    gateway.upstream.behave({ failStatus: 500 });
    const result = await user.execute(SPEAK, { text: 'hello there' });
    expect(codeOf(result)).toBe('PROVIDER_ERROR');
    expect(await balanceOf(user.id)).toBe(50_000);
    const activity = (await user.execute(USAGE)).data.usage.recentActivity;
    expect(activity).toEqual([{ model: 'fake-tts', action: 'SPEECH', cost: 0, success: false }]);
  });

  test('the demo provider speaks and listens without any network', async () => {
    const user = await gateway.user({ tier: 'BASIC', credits: 50_000 });
    const spoken = await user.execute(SPEAK, { text: 'demo voice check', provider: 'demo' });
    const audio = Buffer.from(spoken.data.synthesizeSpeech.audio, 'base64');
    await user.execute(UPDATE_SETTINGS, { input: { sttProvider: 'demo' } });
    const heard = await user.upload(TRANSCRIBE, { audio: null }, { audio: new File([audio], 'check.wav') });
    expect(heard.data.transcribe.text).toBe('demo voice check');
    expect(gateway.upstream.requests).toHaveLength(0);
  });
});

describe('ephemeral realtime keys', () => {
  test('a PRO caller gets a short-lived key from the provider and pays the fixed price once', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 25_000 });
    const before = Date.now();
    const result = await user.execute(EPHEMERAL, { model: 'fake-realtime' });
    expect(result.errors).toBeUndefined();
    const key = result.data.createEphemeralKey;
    expect(key.value).toMatch(/^ek_/);
    const lifetime = Date.parse(key.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(590_000);
    expect(lifetime).toBeLessThan(610_000);
    expect(gateway.upstream.requests.map((request) => [request.path, request.body.session?.model])).toEqual([['/v1/realtime/client_secrets', 'fake-realtime']]);
    expect(await balanceOf(user.id)).toBe(15_000);
  });

  test('without enough credits it is INSUFFICIENT_CREDITS (402) and the provider is never asked', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 9_999 });
    const result = await user.execute(EPHEMERAL);
    expect(codeOf(result)).toBe('INSUFFICIENT_CREDITS');
    expect(result.status).toBe(402);
    expect(gateway.upstream.requests).toHaveLength(0);
    expect(await balanceOf(user.id)).toBe(9_999);
  });

  test('when the provider fails it is PROVIDER_ERROR and nothing is deducted', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 25_000 });
    gateway.upstream.behave({ failStatus: 503 });
    const result = await user.execute(EPHEMERAL, { model: 'fake-realtime' });
    expect(codeOf(result)).toBe('PROVIDER_ERROR');
    expect(await balanceOf(user.id)).toBe(25_000);
  });

  test('realtime is a PRO feature, and chat models are not realtime models', async () => {
    expect(codeOf(await (await gateway.user({ tier: 'BASIC', credits: 25_000 })).execute(EPHEMERAL))).toBe('FORBIDDEN');
    expect(codeOf(await (await gateway.user({ tier: 'PRO', credits: 25_000 })).execute(EPHEMERAL, { model: 'fake-a' }))).toBe('BAD_USER_INPUT');
  });
});
