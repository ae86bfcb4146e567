/**
 * A value given as its JSON text, which the drivers store as it is: a bulk writer that holds
 * the text already (an import that staged its records as JSON) need not parse it only to have
 * it encoded again. Whoever makes one vouches that the text is the JSON of a `T`.
 */
export class JsonText<T = unknown> {
  /** Only for the type: a JsonText of one type is not taken for another's. */
  declare readonly of?: T;
  constructor(readonly json: string) {}
}

/**
 * A value as the drivers store it, JSON text. LevelDB refuses null and undefined values, and
 * the other drivers do too, or code tested against one would fail against another.
 */
export function toJson(value: unknown): string {
  if (value instanceof JsonText) return value.json;
  if (value === null || value === undefined) throw new TypeError('Value cannot be null or undefined');
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`Value cannot be encoded as JSON: ${typeof value}`);
  return json;
}
