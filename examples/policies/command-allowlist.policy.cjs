/* eslint-disable @typescript-eslint/no-require-imports */
// A Warden policy plugin, the worked example of docs/policies.md: an agent may only run shell commands whose
// programs are on an allow-list; any other command is replaced by an explanation, so the agent never runs it.
//
//   POLICY_PLUGIN_DIR=examples/policies POLICY_CONFIG=examples/policies/command-allowlist.yaml npm start
const { z } = require('zod');

/** The options, validated when the chain is loaded (an invalid value names the policy and the option). */
const options = z
  .object({
    allow: z
      .array(z.string().min(1))
      .min(1)
      .describe('Programs the agent may run: the first word of each command, by base name (ls, git, npm).'),
    tools: z
      .array(z.string().min(1))
      .default(['bash', 'Bash', 'shell'])
      .describe('Tool names whose `command` argument is a shell command (Claude Code: Bash; Codex: shell).'),
    message: z
      .string()
      .default(
        'Warden refused to run `{command}`: {reason}. The command was NOT executed. ' +
          'Programs allowed here: {allowed}. Use one of them, or ask the user to run it.',
      )
      .describe('Text that replaces a refused call; placeholders {command}, {reason}, {allowed}.'),
  })
  .strict();

/** Characters of a command quoted in events and messages. */
const MAX_QUOTED_CHARS = 300;

/**
 * The programs a shell command runs: the first word of each command between `;`, `&&`, `||`, `|`, `&` and
 * newlines, after any `NAME=value` assignments, by base name (`/bin/rm` is `rm`). Undefined when the command holds
 * what this reading cannot follow: command substitution (`$(…)`, backticks), process substitution, a subshell or a
 * group. Quotes are not parsed, so a separator inside quotes starts a "command" too: the policy errs on refusing.
 */
function programsOf(command) {
  if (/\$\(|`|[<>]\(/.test(command)) return undefined;
  const programs = [];
  for (const part of command.split(/&&|\|\||[;|\n]|(?<![<>])&(?!>)/)) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i])) i++;
    const word = words[i];
    if (word === undefined) continue;
    if (/^[({]/.test(word)) return undefined;
    programs.push(word.slice(word.lastIndexOf('/') + 1));
  }
  return programs;
}

/** The shell command a tool call asks for: a string, or an argv array (Codex) joined with spaces. */
function commandOf(input) {
  const command = typeof input === 'object' && input !== null ? input.command : undefined;
  if (typeof command === 'string') return command;
  if (Array.isArray(command) && command.every((word) => typeof word === 'string')) return command.join(' ');
  return undefined;
}

/** Why `command` may not run, or undefined when every program in it is allowed. */
function refusal(command, allowed) {
  if (command === undefined) return 'its command could not be read';
  const programs = programsOf(command);
  if (programs === undefined)
    return 'it substitutes commands or opens a subshell, which this policy cannot check';
  const refused = programs.find((program) => !allowed.has(program));
  return refused === undefined ? undefined : `\`${refused}\` is not on the allow-list`;
}

function fill(template, values) {
  return template.replace(/\{(command|reason|allowed)\}/g, (_whole, key) => values[key]);
}

const commandAllowlist = {
  name: 'command-allowlist',
  description:
    'Lets an agent run only shell commands whose programs are on an allow-list; others are replaced.',
  options,
  // Called once per chain load with the validated options; the policy object is shared by every call.
  create: (opts, { name }) => {
    const allowed = new Set(opts.allow);
    const shellTools = new Set(opts.tools);
    const allowedList = opts.allow.join(', ');
    return {
      name,
      // Runs once per complete tool call (streamed arguments are held until then), for every client format,
      // streaming or not. Several calls of one message are decided concurrently.
      onToolCallComplete(ctx, call) {
        if (!shellTools.has(call.name)) return { action: 'pass' };
        const command = commandOf(call.input);
        const reason = refusal(command, allowed);
        const quoted = (command ?? call.arguments).slice(0, MAX_QUOTED_CHARS);
        // Per-call state: how many commands this policy refused in this response.
        const seen = ctx.state(() => ({ refused: 0 }));
        if (reason === undefined) {
          ctx.emit('allowed', { tool: call.name, command: quoted });
          return { action: 'pass' };
        }
        seen.refused++;
        ctx.emit('refused', { tool: call.name, command: quoted, reason, refusedInCall: seen.refused });
        return {
          action: 'replace',
          text: fill(opts.message, { command: quoted, reason, allowed: allowedList }),
        };
      },
    };
  },
};

exports.policyTypes = [commandAllowlist];
exports.programsOf = programsOf;
