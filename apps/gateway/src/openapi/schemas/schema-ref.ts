import type { ReferenceObject, SchemaObject } from '@nestjs/swagger';

/** A named set of component schemas. */
export type SchemaMap = Record<string, SchemaObject>;

/** A `$ref` to the component schema `name`. */
export function ref(name: string): ReferenceObject {
  return { $ref: `#/components/schemas/${name}` };
}

/** `schema` or JSON `null` (OpenAPI 3.1 / JSON Schema). */
export function nullable(schema: SchemaObject | ReferenceObject): SchemaObject {
  return { anyOf: [schema, { type: 'null' }] };
}
