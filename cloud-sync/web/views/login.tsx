// Sign-in: the operator token, checked against the cloud before it is kept (in this tab's
// sessionStorage only). A refused token, or a session the cloud ended, says why here.
import { useState } from 'preact/hooks'
import type { ApiError } from '../api.js'
import { applyView, firstPage } from '../fleet-store.js'
import { signIn, signedOutReason } from '../session.js'

export function Login () {
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const t = value.trim()
    if (t === '') { setError('Enter the operator token.'); return }
    setBusy(true)
    setError(null)
    try {
      const view = await firstPage(t, true)
      signIn(t)
      applyView(view)
    } catch (err) {
      const e2 = err as ApiError
      setError(e2.code === 'LAMBKIN_UNAUTHORIZED' ? `The cloud refused this token (${e2.code}): ${e2.message}` : `${e2.code}: ${e2.message}`)
    } finally {
      setBusy(false)
    }
  }
  const reason = error ?? signedOutReason.value
  return (
    <main class='login'>
      <h1>lambkin fleet</h1>
      <form onSubmit={(e) => { void submit(e) }}>
        <label for='token'>Operator token</label>
        <input id='token' name='token' type='password' autocomplete='off' spellcheck={false} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} aria-describedby='token-help' aria-invalid={reason !== null} />
        <p id='token-help' class='help'>It is in <code>&lt;cloud data&gt;/operator-token</code> (<code>lambkin cloud</code> prints where). It is kept in this tab only and sent to this cloud as a bearer header.</p>
        {reason !== null && <p class='error' role='alert'>{reason}</p>}
        <button type='submit' disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </main>
  )
}
