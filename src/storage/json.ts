/**
 * A value as the drivers store it, JSON text. LevelDB refuses null and undefined values, and
 * the other drivers do too, or code tested against one would fail against another.
 */
export function toJson(value: unknown): string {
  if (value === null || value === undefined) throw new TypeError('Value cannot be null or undefined');
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`Value cannot be encoded as JSON: ${typeof value}`);
  return json;
}
