// Small shared pieces: a modal dialog, a confirmation, a secret shown once, a form footer, error and field messages.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

/** A native modal <dialog>: focus is trapped and Escape closes it. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onCancel={(e) => (e.preventDefault(), props.onClose())}>
      <h2 id="dialog-title">{props.title}</h2>
      {props.children}
    </dialog>
  );
}

export function Confirm(props: { title: string; message: string; action: string; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Modal title={props.title} onClose={props.onCancel}>
      <p>{props.message}</p>
      <div class="actions">
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.action}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}

/** A form's footer: its submit button, and Cancel. */
export function FormActions(props: { submit: string; onCancel: () => void }) {
  return (
    <div class="actions">
      <button type="submit">{props.submit}</button>
      <button type="button" class="secondary" onClick={props.onCancel}>
        Cancel
      </button>
    </div>
  );
}

export function ErrorText(props: { error: string | undefined }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null;
}

/** The server's message for one field, shown next to it. */
export function FieldError(props: { id: string; message: string | undefined }) {
  return props.message ? (
    <span id={props.id} class="field-error" role="alert">
      {props.message}
    </span>
  ) : null;
}

/** Shows a secret (a key's credentials, a webhook's signing secret) exactly once; nothing keeps it after the dialog closes. */
export function ShownOnce(props: { title: string; label: string; value: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <p class="warning" role="alert">
        Copy this now: it cannot be shown again.
      </p>
      <label for="shown-once">{props.label}</label>
      <input id="shown-once" readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} />
      <div class="actions">
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard.writeText(props.value);
            setCopied(true);
          }}
        >
          Copy
        </button>
        <button type="button" class="secondary" onClick={props.onClose}>
          Done
        </button>
      </div>
      {copied && <p role="status">Copied to the clipboard.</p>}
    </Modal>
  );
}
