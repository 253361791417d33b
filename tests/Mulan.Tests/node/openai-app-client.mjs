// Chats with a published Mulan app (model "app:<slug>") through the official `openai` npm package: a question, its
// citations (an extra field the package passes through untouched), a streamed follow-up continuing the stored
// conversation, and feedback on /v1. Prints one JSON object with what it observed; AppNodeClientTests checks it.
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.MULAN_BASE_URL, apiKey: process.env.MULAN_KEY, maxRetries: 0 });
const out = {};

const response = await client.chat.completions.create({
  model: 'app:hr',
  user: 'node-user',
  messages: [{ role: 'user', content: '加班怎麼計薪？' }],
}).withResponse();
const completion = response.data;
out.first = {
  text: completion.choices[0].message.content,
  citations: completion.citations,
  conversation: completion.conversation_id,
  requestId: response.response.headers.get('x-mulan-request-id'),
};

// The package sends unknown body fields as given: conversation_id continues the stored conversation.
const stream = await client.chat.completions.create({
  model: 'app:hr',
  user: 'node-user',
  conversation_id: completion.conversation_id,
  messages: [{ role: 'user', content: '那要誰批准呢？' }],
  stream: true,
});
let text = '';
let last = null;
for await (const chunk of stream) {
  text += chunk.choices[0]?.delta?.content ?? '';
  last = chunk;
}
out.followUp = { text, citations: last.citations, conversation: last.conversation_id };

const feedback = await client.post('/feedback', { body: { requestId: out.first.requestId, rating: 'up', comment: 'clear' } });
out.feedback = feedback;

console.log(JSON.stringify(out));
