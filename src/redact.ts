// Credentials written into a URL (`mqtt://user:pass@host`) are redacted wherever text that may
// hold a URL is printed: log lines, error messages, the ready line. One rule, one owner.

// `//`, then the userinfo up to the last "@" before the path, query or fragment (a password
// may itself hold "@" or ":"; RFC 3986 section 3.2.1 puts userinfo before the last "@").
const USERINFO = /(\/\/)[^/?#\s]*@/g

/**
 * `text` with the userinfo of every URL in it replaced by `***`:
 * `mqtt://u:p@h:1883/x` -> `mqtt://***@h:1883/x`. The user name goes too, since brokers
 * often take a token there. Text without a URL comes back unchanged.
 */
export function redactUrls (text: string): string {
  return text.includes('@') ? text.replace(USERINFO, '$1***@') : text
}
