// A button whose action waits for a confirmation in a modal dialog (the browser's own <dialog>:
// focus moves into it, Escape or "Keep" closes it, focus returns to the button).
import { useRef, useState } from 'preact/hooks'
import type { ComponentChildren } from 'preact'

export interface ConfirmProps {
  label: string
  title: string
  children: ComponentChildren
  confirmLabel: string
  /** Does the work; resolves with what to tell the operator, rejects with the reason it failed. */
  onConfirm: () => Promise<string>
  disabled?: boolean
  danger?: boolean
}

export function ConfirmButton ({ label, title, children, confirmLabel, onConfirm, disabled, danger }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [result, setResult] = useState<string | null>(null)
  const open = (): void => { setError(null); setResult(null); dialog.current?.showModal() }
  const confirm = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      const said = await onConfirm()
      dialog.current?.close()
      setResult(said)
    } catch (err) {
      setError(`${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <span class='confirm'>
      <button type='button' class={danger === true ? 'danger' : undefined} disabled={disabled} onClick={open}>{label}</button>
      {result !== null && <span class='confirm-result' role='status'>{result}</span>}
      <dialog ref={dialog} aria-label={title}>
        <h3>{title}</h3>
        <div class='dialog-body'>{children}</div>
        {error !== null && <p class='error' role='alert'>{error}</p>}
        <div class='dialog-buttons'>
          <button type='button' autofocus onClick={() => dialog.current?.close()}>Keep things as they are</button>
          <button type='button' class={danger === true ? 'danger' : undefined} disabled={busy} onClick={() => { void confirm() }}>{busy ? 'Working…' : confirmLabel}</button>
        </div>
      </dialog>
    </span>
  )
}
