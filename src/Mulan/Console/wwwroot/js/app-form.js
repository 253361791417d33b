// The app definition form, one set of fields per kind; everything the form does not show is kept as it was.
import { h } from './dom.js';
import { get } from './api.js';
import { t } from './i18n.js';
import { scope } from './session.js';
import { field, input, select } from './ui.js';

function multi(options, chosen, name) {
  return h('select', { multiple: true, name, size: Math.min(Math.max(options.length, 2), 6) },
    options.map((o) => h('option', { value: o, selected: chosen.includes(o) }, o)));
}

const chosenOf = (sel) => [...sel.selectedOptions].map((o) => o.value);

/** Returns {body, value()} for a definition; value() is the definition with the form's fields applied. */
export async function appForm(definition, { editing = false } = {}) {
  const d = structuredClone(definition);
  const [models, kbs, tools, channels] = await Promise.all([
    get('/api/models').then((r) => (r.models || []).map((m) => m.name)).catch(() => []),
    get('/api/knowledge-bases', scope()).then((r) => r.knowledgeBases.map((k) => k.name)).catch(() => []),
    d.kind === 'assistant' ? get('/api/tools', scope()).then((r) => r.tools.map((x) => x.name)).catch(() => []) : [],
    d.kind === 'copywriter' ? get('/api/compliance/channels').then((r) => r.channels.map((c) => c.name)).catch(() => []) : [],
  ]);
  const slug = input({ name: 'slug', required: true, pattern: '[a-z0-9][a-z0-9-]*', value: d.slug || '', readOnly: editing });
  const name = input({ name: 'name', required: true, value: d.name || '' });
  const description = input({ name: 'description', value: d.description || '' });
  const modelList = models.includes(d.model) || !d.model ? models : [d.model, ...models];
  const model = select(modelList.map((m) => ({ value: m, label: m, selected: m === d.model })), { name: 'model', required: true });
  const instructions = h('textarea', { name: 'instructions', rows: 6 }, d.instructions || '');
  const common = [field(t('apps.slug'), slug, t('apps.slugHint')), field(t('apps.name'), name), field(t('apps.description'), description),
    field(t('apps.model'), model), field(t('apps.instructions'), instructions)];
  const kbNames = [...new Set([...(d.knowledgeBases || []), ...kbs])];
  const kbSelect = multi(kbNames, d.knowledgeBases || [], 'knowledgeBases');
  let kindFields = [];
  let apply = () => {};
  if (d.kind === 'knowledge-qa') {
    const topK = input({ type: 'number', name: 'topK', min: '1', max: '50', value: d.retrieval?.topK ?? 5 });
    const refusal = input({ name: 'refusal', value: d.guardrails?.refusalMessage || '' });
    kindFields = [field(t('apps.knowledgeBases'), kbSelect, t('apps.knowledgeBasesHint')), field(t('apps.topK'), topK), field(t('apps.refusal'), refusal)];
    apply = (x) => {
      x.knowledgeBases = chosenOf(kbSelect);
      x.retrieval = { ...(x.retrieval || {}), topK: Number(topK.value) || 5 };
      if (refusal.value) x.guardrails = { ...(x.guardrails || {}), refusalMessage: refusal.value };
    };
  } else if (d.kind === 'copywriter') {
    const cw = d.copywriter || {};
    const channel = select([...new Set([cw.channel, ...channels].filter(Boolean))].map((c) => ({ value: c, label: c, selected: c === cw.channel })), { name: 'channel' });
    const variants = input({ type: 'number', name: 'variants', min: '1', max: '10', value: cw.variants ?? 3 });
    const tone = input({ name: 'tone', value: cw.tone || '' });
    kindFields = [field(t('apps.channel'), channel), field(t('apps.variants'), variants), field(t('apps.tone'), tone)];
    apply = (x) => { x.copywriter = { ...cw, channel: channel.value, variants: Number(variants.value) || 3, tone: tone.value || undefined }; };
  } else if (d.kind === 'assistant') {
    const toolSelect = multi([...new Set([...(d.tools || []), ...tools])], d.tools || [], 'tools');
    kindFields = [field(t('apps.tools'), toolSelect, t('apps.toolsHint')), field(t('apps.knowledgeBases'), kbSelect)];
    apply = (x) => { x.tools = chosenOf(toolSelect); x.knowledgeBases = chosenOf(kbSelect); };
  }
  const body = h('div', { class: 'form-grid wide' }, common, kindFields);
  const value = () => {
    const x = structuredClone(d);
    Object.assign(x, { slug: slug.value.trim(), name: name.value.trim(), model: model.value, instructions: instructions.value });
    if (description.value) x.description = description.value; else delete x.description;
    apply(x);
    return x;
  };
  return { body, value };
}
