import type { Model, ModelStatic } from 'sequelize';
import { columnOf, internals } from './model-info';

/** The parts of Sequelize's query generator the library's own SQL uses (quoting, escaping, enum names). */
export interface QueryGenerator {
  quoteIdentifier(id: string): string;
  quoteTable(table: unknown): string;
  escape(value: unknown, field?: unknown, options?: unknown): string;
  pgEnumName?(table: unknown, column: string, options?: unknown): string;
}

export function generatorOf(model: ModelStatic<Model>): QueryGenerator {
  return (model as unknown as { queryInterface: { queryGenerator: QueryGenerator } }).queryInterface.queryGenerator;
}

/** The SQL type to cast a VALUES entry to, so that NULLs, JSON, enums and arrays land with the column's type. */
export function sqlType(model: ModelStatic<Model>, attribute: string, qg: QueryGenerator): string {
  const type = internals(model).rawAttributes[attribute]!.type as { key?: string; toSql?: () => string; type?: { key?: string } };
  if (type.key === 'ENUM' && qg.pgEnumName) return qg.pgEnumName(model.getTableName(), columnOf(model, attribute), { schema: false });
  if (type.key === 'ARRAY' && type.type?.key === 'ENUM' && qg.pgEnumName) {
    return `${qg.pgEnumName(model.getTableName(), columnOf(model, attribute), { schema: false })}[]`;
  }
  return type.toSql ? type.toSql() : String(type.key);
}

