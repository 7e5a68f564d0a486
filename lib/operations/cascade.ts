import { Op, type Model, type ModelStatic } from 'sequelize';
import type { Row } from '../data/records';
import type { AnyOptions } from './context';

interface CascadingAssociation {
  associationType: string;
  target: ModelStatic<Model>;
  foreignKey: string;
  sourceKey: string;
  scope?: Record<string, unknown>;
  options: { onDelete?: string; useHooks?: boolean };
}

/**
 * Destroys, through the target model (so they signal), the rows of `hasMany`/`hasOne` associations declared
 * with `onDelete: 'CASCADE', hooks: true` that belong to the rows about to be hard-deleted — what Sequelize
 * does per row for instance.destroy, done here in one call per association for where-based deletes.
 */
function cascading(model: ModelStatic<Model>): CascadingAssociation[] {
  return Object.values((model as unknown as { associations: Record<string, CascadingAssociation> }).associations ?? {})
    .filter((a) => (a.associationType === 'HasMany' || a.associationType === 'HasOne')
      && a.options.onDelete?.toLowerCase() === 'cascade' && a.options.useHooks === true);
}

/** Whether deleting rows of `model` first destroys associated rows through their model. */
export function hasCascades(model: ModelStatic<Model>): boolean {
  return cascading(model).length > 0;
}

export async function destroyCascades(model: ModelStatic<Model>, rows: readonly Row[], options: AnyOptions): Promise<void> {
  for (const association of cascading(model)) {
    const keys = [...new Set(rows.map((r) => r[association.sourceKey]).filter((k) => k != null))];
    if (keys.length === 0) continue;
    await association.target.destroy({
      where: { ...association.scope, [association.foreignKey]: { [Op.in]: keys } },
      transaction: options.transaction ?? undefined,
      ...(options.force === undefined ? {} : { force: options.force as boolean }),
      ...(options.logging === undefined ? {} : { logging: options.logging as never }),
      ...(options.bypassValidation === undefined ? {} : { bypassValidation: options.bypassValidation as boolean }),
    });
  }
}
