// Formatting of values and one-line summaries of events (plain strings: the caller renders them as text).

export function fmtTime(iso) {
  if (typeof iso !== 'string') return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleTimeString([], { hour12: false }) + '.' + String(date.getMilliseconds()).padStart(3, '0');
}

export function fmtDateTime(iso) {
  if (typeof iso !== 'string') return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString([], { hour12: false });
}

export function fmtMs(ms) {
  if (typeof ms !== 'number') return '';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function preview(text, max = 240) {
  const flat = String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Text of Anthropic or OpenAI message content (strings, text blocks/parts, tool results). */
export function contentText(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => {
      if (typeof block === 'string') return block;
      if (block === null || typeof block !== 'object') return '';
      if (typeof block.text === 'string') return block.text;
      if (block.type === 'tool_use') return `[tool call ${block.name ?? ''}]`;
      if (block.type === 'tool_result') return contentText(block.content);
      return '';
    })
    .filter((t) => t !== '')
    .join(' ');
}

/** The category of an event type, for colours: call, request, response, policy, failure. */
export function categoryOf(type) {
  if (type === 'call.failed' || type.endsWith('.blocked') || type.endsWith('.error')) return 'alert';
  if (type.startsWith('policy.')) return 'policy';
  if (type.startsWith('request.')) return 'request';
  if (type.startsWith('response.')) return 'response';
  return 'call';
}

/** A one-line description of an event. */
export function eventSummary(event) {
  const d = event.data ?? {};
  switch (event.type) {
    case 'call.started':
      return `${d.model ?? '?'} · ${d.clientFormat ?? '?'} → ${d.upstreamFormat ?? '?'}${d.stream ? ' · stream' : ''}`;
    case 'request.received': {
      const messages = Array.isArray(d.request?.messages)
        ? d.request.messages.filter((m) => m && typeof m === 'object')
        : [];
      const last = messages[messages.length - 1];
      return last ? `${last.role ?? ''}: ${preview(contentText(last.content))}` : '';
    }
    case 'request.forwarded':
      return `forwarded (${d.format ?? '?'})`;
    case 'response.first_token':
      return `first token after ${fmtMs(d.firstTokenMs)}`;
    case 'response.completed':
      return preview(contentText(d.final?.content ?? d.original?.content));
    case 'call.completed': {
      const tokens =
        d.inputTokens !== undefined || d.outputTokens !== undefined
          ? ` · ${d.inputTokens ?? '?'} in / ${d.outputTokens ?? '?'} out`
          : '';
      return `status ${d.status ?? '?'} · ${fmtMs(d.durationMs)}${tokens}`;
    }
    case 'call.failed':
      return `failed: ${preview(d.error)}`;
    case 'policy.config.updated':
      return `policy chain v${d.version ?? '?'}: ${Array.isArray(d.policies) ? d.policies.join(', ') : ''}`;
    default:
      if (event.type.startsWith('policy.')) {
        const parts = [];
        if (d.tool !== undefined) parts.push(`tool ${d.tool}`);
        if (typeof d.probability === 'number') parts.push(`p=${d.probability}`);
        if (d.explanation !== undefined) parts.push(preview(d.explanation, 160));
        if (d.error !== undefined) parts.push(preview(d.error, 160));
        if (d.pattern !== undefined) parts.push(`pattern ${d.pattern}`);
        return parts.join(' · ');
      }
      return '';
  }
}

export function shortId(id) {
  return typeof id === 'string' && id.length > 12 ? `${id.slice(0, 8)}…` : String(id ?? '');
}
