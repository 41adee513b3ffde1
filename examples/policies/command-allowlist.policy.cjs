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
      .describe(
        'Programs the agent may run, by name (ls, grep). Never one that runs other programs (sh, env, xargs, node).',
      ),
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
 * Reads a shell command the strict way an allow-list needs: it runs only bare programs, with arguments, joined by
 * `;`, `&&`, `||`, `|`, `&` or newlines. Anything a shell could make run something else is refused rather than
 * followed: expansions other than a plain `$NAME` (`$(…)`, `${…}`, `$'…'`, `$((…))`), backticks, subshells, groups and
 * function definitions (any parenthesis or brace), redirections other than `2>&1` (they write files), `NAME=value`
 * before a program (`PATH=`, `LD_PRELOAD=`), a program given as a path (`./ls` can be anything), control characters
 * (bash splits words on spaces and tabs only). Quotes are not parsed: a separator inside quotes starts a "command"
 * too, so the policy errs on refusing.
 * @returns the programs the command runs, or `{ refused: reason }`.
 */
function readCommand(command) {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(command)) return { refused: 'it holds control characters' };
  if (/\$(?![A-Za-z_])/.test(command) || command.includes('`'))
    return { refused: 'it expands or substitutes something other than a plain $VARIABLE' };
  if (/[(){}]/.test(command)) return { refused: 'it opens a subshell, a group or a function' };
  if (/[<>]/.test(command.replaceAll('2>&1', ''))) return { refused: 'it redirects input or output' };
  const programs = [];
  // `&` after `>` or before `>` belongs to a redirection (2>&1), not a separator.
  for (const part of command.split(/&&|\|\||[;|\n]|(?<![<>])&(?!>)/)) {
    const words = part.split(/[ \t]+/).filter(Boolean);
    const program = words[0];
    if (program === undefined) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program))
      return { refused: 'it sets variables for a command (NAME=value)' };
    if (program.includes('/')) return { refused: `\`${program}\` is a path, not a program on the list` };
    programs.push(program);
  }
  return { programs };
}

/** Shells whose `-c` script is the command itself (Codex sends `["bash", "-lc", "<script>"]`). */
const SHELLS = new Set(['bash', 'sh', 'zsh']);

/** The shell command a tool call asks for: a string, or an argv array (Codex), a shell's `-c` script unwrapped. */
function commandOf(input) {
  const command = typeof input === 'object' && input !== null ? input.command : undefined;
  if (typeof command === 'string') return command;
  if (!Array.isArray(command) || !command.every((word) => typeof word === 'string')) return undefined;
  const [shell, flag, script] = command;
  if (command.length === 3 && SHELLS.has(shell) && (flag === '-c' || flag === '-lc')) return script;
  return command.join(' ');
}

/** Why `command` may not run, or undefined when every program in it is allowed. */
function refusal(command, allowed) {
  if (command === undefined) return 'its command could not be read';
  const read = readCommand(command);
  if (read.refused !== undefined) return read.refused;
  const off = read.programs.find((program) => !allowed.has(program));
  return off === undefined ? undefined : `\`${off}\` is not on the allow-list`;
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
exports.readCommand = readCommand;
