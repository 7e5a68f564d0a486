import { Op, type Model, type ModelStatic, type Transaction } from 'sequelize';
import { listeningFor } from '../listening';
import { internals, type AssociationInternals, type Row } from '../internals';

export type CascadingAssociation = AssociationInternals;

/**
 * The `hasMany`/`hasOne` associations declared `onDelete: 'CASCADE', hooks: true` whose target has delete
 * receivers. Sequelize runs such cascades one row at a time for `instance.destroy` only; for a where-based
 * delete the database cascades without any hook. The library destroys those children through their own model
 * first — in one call per association, from the parent rows it locked — so they signal; where nobody listens
 * for the children, the database's cascade does it as before (no extra statement).
 */
export function listeningCascades(model: ModelStatic<Model>): CascadingAssociation[] {
  return Object.values(internals(model).associations ?? {}).filter(
    (a) =>
      (a.associationType === 'HasMany' || a.associationType === 'HasOne') &&
      a.options.onDelete?.toLowerCase() === 'cascade' &&
      a.options.useHooks === true &&
      listeningFor(a.target, 'Delete', undefined) !== undefined,
  );
}

export async function destroyCascades(
  cascades: readonly CascadingAssociation[],
  rows: readonly Row[],
  transaction: Transaction,
  options: Readonly<Record<string, unknown>>,
): Promise<void> {
  for (const association of cascades) {
    const keys = [...new Set(rows.map((r) => r[association.sourceKey]).filter((k) => k != null))];
    if (keys.length === 0) continue;
    await association.target.destroy({
      where: { ...association.scope, [association.foreignKey]: { [Op.in]: keys } },
      transaction,
      // The parents are deleted for real, so the database removes their children for real: a paranoid
      // child is not soft-deleted first.
      force: true,
      ...(options.logging === undefined ? {} : { logging: options.logging as never }),
      ...(options.bypassValidation === undefined ? {} : { bypassValidation: options.bypassValidation as boolean }),
    });
  }
}
