// Talks to a running Mulan with the official `openai` npm package, exactly as a user's app would, and prints
// one JSON object with what it observed. The C# test (NodeClientTests) starts the server and checks the output.
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.MULAN_BASE_URL, apiKey: process.env.MULAN_KEY, maxRetries: 0 });
const out = {};

const completion = await client.chat.completions.create({
  model: 'chat',
  messages: [{ role: 'user', content: '你好, Mulan' }],
});
out.chat = { text: completion.choices[0].message.content, usage: completion.usage, finish: completion.choices[0].finish_reason };

const stream = await client.chat.completions.create({
  model: 'chat-cny',
  messages: [{ role: 'user', content: 'stream it' }],
  stream: true,
  stream_options: { include_usage: true },
});
let streamed = '';
let chunks = 0;
let streamUsage = null;
for await (const chunk of stream) {
  chunks++;
  streamed += chunk.choices[0]?.delta?.content ?? '';
  if (chunk.usage) streamUsage = chunk.usage;
}
out.stream = { text: streamed, chunks, usage: streamUsage };

const tools = await client.chat.completions.create({
  model: 'chat-tools',
  messages: [{ role: 'user', content: 'weather in Paris?' }],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  stream: true,
});
const calls = {};
for await (const chunk of tools) {
  for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
    calls[call.index] ??= { name: '', arguments: '' };
    if (call.function?.name) calls[call.index].name = call.function.name;
    calls[call.index].arguments += call.function?.arguments ?? '';
  }
}
out.tools = Object.values(calls);

const embeddings = await client.embeddings.create({ model: 'embed', input: ['one', '二'] });
out.embeddings = { count: embeddings.data.length, dims: embeddings.data[0].embedding.length, usage: embeddings.usage };

try {
  await client.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'x' }] });
  out.error = null;
} catch (e) {
  out.error = { status: e.status, code: e.code, type: e.type };
}

console.log(JSON.stringify(out));
