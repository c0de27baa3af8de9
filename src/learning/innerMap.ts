/**
 * The map under `key` in a map of maps, made the first time. The learning pass keys its counts
 * part by part (a key joined from the parts would be a new string to hash for every run) and calls
 * this per run, so it takes no callback to make the value.
 */
export function innerMap<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
