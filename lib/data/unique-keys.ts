import type { Model, ModelStatic } from 'sequelize';
import { attributeOfColumn } from './model-info';

type IndexField = string | { name?: string; attribute?: string };

interface KeyInternals {
  readonly uniqueKeys: Record<string, { fields: string[] }>;
  readonly _indexes: { unique?: boolean; where?: unknown; fields: IndexField[] }[];
}

/** The column names a unique key or index lists (Sequelize lets index fields be objects). */
function columnsOf(fields: readonly IndexField[]): string[] {
  return fields.map((f) => (typeof f === 'string' ? f : (f.attribute ?? f.name ?? '')));
}

/** The attributes stored in these columns (unknown columns are dropped). */
export function attributesOf(model: ModelStatic<Model>, fields: readonly IndexField[]): string[] {
  return columnsOf(fields).map((c) => attributeOfColumn(model, c)).filter((a): a is string => Boolean(a));
}

/**
 * A model's unique keys (from `unique:` attributes) and unique indexes, as column lists, the way Sequelize's
 * upsert and bulkCreate read them when they choose an ON CONFLICT target. `partial` marks an index with a
 * `where` (bulkCreate skips those; upsert does not).
 */
export function uniqueColumnSets(model: ModelStatic<Model>): { keys: string[][]; indexes: { columns: string[]; partial: boolean }[] } {
  const info = model as unknown as KeyInternals;
  return {
    keys: Object.values(info.uniqueKeys).filter((k) => k.fields.length > 0).map((k) => [...k.fields]),
    indexes: info._indexes.filter((i) => i.unique && i.fields.length > 0)
      .map((i) => ({ columns: columnsOf(i.fields), partial: Boolean(i.where) })),
  };
}
