// A setting with a control character in it: most often the "\r" a file saved with Windows line
// ends leaves at the end of a line (an env file for systemd or Docker's --env-file keeps it),
// which makes a password wrong, a path another folder, a key file missing. The agent's config
// (device/config/schema.ts), the cloud's LAMBKIN_* settings (cli/commands/cloud.ts) and the
// deploy key (cli/deploy-options.ts) refuse it with these words.

const CONTROL = /[\x00-\x1f\x7f]/

/**
 * Where `text` holds a control character (C0 or DEL), as words for an error: the character
 * (JSON-escaped) and its place, never the text itself (it may be a secret); undefined when it
 * holds none.
 */
export function controlCharProblem (text: string): string | undefined {
  const ctl = CONTROL.exec(text)
  if (ctl === null) return undefined
  return `holds the control character ${JSON.stringify(ctl[0])} at character ${ctl.index + 1} of ${text.length} (a line end kept from a file saved with Windows line ends?); remove it`
}
