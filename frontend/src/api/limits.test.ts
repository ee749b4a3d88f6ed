// The forms' limits are the server's: read from the OpenAPI schema the types are generated from.
import { describe, expect, it } from 'vitest'

import { TOKEN_NAME_MAX } from '../account/settings/queries'
import { DOCUMENT_TITLE_MAX } from '../documents/api'
import schema from './openapi.json'

interface Property {
  maxLength?: number
  anyOf?: Property[]
}

function maxLength(component: string, field: string): number | undefined {
  const schemas = schema.components.schemas as unknown as Record<
    string,
    { properties: Record<string, Property> }
  >
  const property = schemas[component].properties[field]
  return property.maxLength ?? property.anyOf?.find((option) => option.maxLength !== undefined)?.maxLength
}

describe('limits shared with the server', () => {
  it('document titles', () => {
    expect(maxLength('DocumentIn', 'title')).toBe(DOCUMENT_TITLE_MAX)
  })

  it('API token names', () => {
    expect(maxLength('TokenCreateIn', 'name')).toBe(TOKEN_NAME_MAX)
  })

  it('reset links', () => {
    expect(maxLength('ResetConfirmIn', 'uid')).toBe(32)
  })
})
