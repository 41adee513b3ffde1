// Rendering of canonical (Anthropic-shaped) messages and content blocks, all as text.
import { h, jsonPre } from './dom.js';

export function renderMessage(message, extraClass = '') {
  const role = String(message?.role ?? 'unknown');
  const blocks = Array.isArray(message?.content) ? message.content : [];
  return h(
    'div',
    { class: `message role-${role === 'assistant' ? 'assistant' : 'user'} ${extraClass}`.trim() },
    h('div', { class: 'role', text: role }),
    blocks.length === 0
      ? h('p', { class: 'muted', text: '(empty)' })
      : blocks.map((block) => renderBlock(block)),
  );
}

export function renderBlock(block, extraClass = '') {
  if (block === null || typeof block !== 'object')
    return h('div', { class: `block ${extraClass}`.trim(), text: String(block) });
  const type = String(block.type ?? 'unknown');
  const cls = `block block-${type.replace(/[^a-z_]/gi, '')} ${extraClass}`.trim();
  switch (type) {
    case 'text':
      return h('div', { class: cls }, h('pre', { class: 'text', text: String(block.text ?? '') }));
    case 'thinking':
      return h(
        'details',
        { class: cls },
        h('summary', { text: 'Thinking' }),
        h('pre', { class: 'text', text: String(block.thinking ?? '') }),
      );
    case 'redacted_thinking':
      return h('div', { class: cls, text: '(redacted thinking)' });
    case 'tool_use':
      return h(
        'div',
        { class: cls, dataset: { toolUseId: block.id ?? '' } },
        h('div', { class: 'label' }, 'Tool call ', h('code', { text: String(block.name ?? '') })),
        jsonPre(block.input ?? {}),
      );
    case 'tool_result': {
      const content = block.content;
      return h(
        'div',
        { class: cls },
        h('div', { class: 'label', text: `Tool result${block.is_error ? ' (error)' : ''}` }),
        typeof content === 'string'
          ? h('pre', { class: 'text', text: content })
          : Array.isArray(content)
            ? content.map((part) => renderBlock(part))
            : jsonPre(content ?? null),
      );
    }
    case 'image':
      return h('div', { class: cls, text: '(image)' });
    default:
      return h('div', { class: cls }, h('div', { class: 'label', text: `${type} block` }), jsonPre(block));
  }
}
