// Outside text in a log line or a terminal cell: device ids and topics a device sent, function
// names, error messages a function threw, payloads. Every log sink (the agent's and the cloud's
// composition roots, the CLI's printed lines) passes its lines through logText, so a newline in
// such text cannot forge a log line and an ANSI escape (ESC) cannot recolour or rewrite the
// operator's terminal. One rule for every sink; the CLI's tables use it too (cli/table.ts).

/**
 * C0 controls (newline, carriage return and tab included), DEL and C1 controls, the Unicode
 * line and paragraph separators, and the bidirectional controls that can reorder what a reader
 * sees ("Trojan Source", CVE-2021-42574).
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** `s` with every control character shown as `\xNN` (or `\uNNNN` above U+00FF): one line, inert. */
export function logText (s: string): string {
  return s.replace(CONTROLS, (c) => {
    const n = c.charCodeAt(0)
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
  })
}
