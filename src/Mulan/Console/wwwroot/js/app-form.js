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

/** An assistant's schedules: name, cron, time zone and the input each run gets; a schedule's webhook is kept. */
function scheduleEditor(initial) {
  const rows = h('tbody');
  const add = (s = {}) => {
    const name = input({ value: s.name || '', required: true, 'aria-label': t('schedules.name') });
    const cron = input({ value: s.cron || '0 9 * * 1-5', required: true, class: 'mono', 'aria-label': t('schedules.cron') });
    const zone = input({ value: s.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', 'aria-label': t('schedules.timeZone') });
    const text = input({ value: s.input || '', required: true, 'aria-label': t('schedules.input') });
    const row = h('tr', { class: 'schedule-row' }, h('td', null, name), h('td', null, cron), h('td', null, zone), h('td', null, text),
      h('td', null, h('button', { type: 'button', class: 'btn btn-link', onClick: () => row.remove() }, t('common.remove'))));
    row.read = () => ({ ...s, name: name.value.trim(), cron: cron.value.trim(), timeZone: zone.value.trim() || undefined, input: text.value });
    rows.append(row);
  };
  initial.forEach(add);
  const body = h('fieldset', { class: 'schedules-editor' }, h('legend', null, t('schedules.editorTitle')),
    h('p', { class: 'hint' }, t('schedules.editorHint')),
    h('div', { class: 'table-wrap' }, h('table', null, h('thead', null, h('tr', null,
      ['name', 'cron', 'timeZone', 'input'].map((k) => h('th', { scope: 'col' }, t(`schedules.${k}`))),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('common.actions'))))), rows)),
    h('button', { type: 'button', class: 'btn btn-secondary', onClick: () => add() }, t('schedules.add')));
  return { body, value: () => [...rows.querySelectorAll('tr.schedule-row')].map((r) => r.read()) };
}

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
    const schedules = scheduleEditor((d.assistant && d.assistant.schedules) || []);
    kindFields = [field(t('apps.tools'), toolSelect, t('apps.toolsHint')), field(t('apps.knowledgeBases'), kbSelect), schedules.body];
    apply = (x) => {
      x.tools = chosenOf(toolSelect);
      x.knowledgeBases = chosenOf(kbSelect);
      const list = schedules.value();
      if (list.length) x.assistant = { ...(x.assistant || {}), schedules: list };
      else if (x.assistant) delete x.assistant.schedules;
    };
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
