import { describeError } from '../api/errors'

/** The one style for errors: shown inside the form (or panel) they belong to, announced to screen readers. */
export function FormError({ error, id }: { error: unknown; id?: string }) {
  if (error === null || error === undefined || error === '') return null
  const message = typeof error === 'string' ? error : describeError(error)
  return (
    <p className="form-error" role="alert" id={id} data-error="">
      {message}
    </p>
  )
}
