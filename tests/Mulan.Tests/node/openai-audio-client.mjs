// Transcription and speech through Mulan with the official `openai` npm package; prints one JSON line for SpeechClientTests.
import fs from 'node:fs';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.MULAN_BASE_URL, apiKey: process.env.MULAN_KEY, maxRetries: 0 });
const out = {};

const transcription = await client.audio.transcriptions.create({ model: 'asr', file: fs.createReadStream(process.env.AUDIO_FILE) });
out.transcription = transcription.text;

const speech = await client.audio.speech.create({ model: 'tts', voice: 'alloy', input: 'Hello', response_format: 'wav' });
out.speechBytes = Buffer.from(await speech.arrayBuffer()).length;

try {
  await client.audio.speech.create({ model: 'tts', voice: 'no-such-voice', input: 'Hello' });
} catch (e) {
  out.error = { status: e.status, code: e.code };
}
console.log(JSON.stringify(out));
