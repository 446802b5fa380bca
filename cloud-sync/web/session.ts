// The operator's session: the token lives in this tab's sessionStorage only (gone when the tab
// closes, never in localStorage, a cookie or a URL), and every API call sends it as a bearer
// header. A call the cloud refuses with LAMBKIN_UNAUTHORIZED ends the session with the reason.
import { signal } from '@preact/signals'

const KEY = 'lambkin.operatorToken'

function stored (): string | null {
  try { return sessionStorage.getItem(KEY) } catch { return null }
}

/** The token in use, or null when signed out. */
export const token = signal<string | null>(stored())
/** Why the login form is shown: null on a first visit, else what ended the last session. */
export const signedOutReason = signal<string | null>(null)

export function signIn (t: string): void {
  try { sessionStorage.setItem(KEY, t) } catch { /* private mode: the session lasts while the page is open */ }
  signedOutReason.value = null
  token.value = t
}

export function signOut (reason: string | null): void {
  try { sessionStorage.removeItem(KEY) } catch { /* nothing stored */ }
  signedOutReason.value = reason
  token.value = null
}
