import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * A multi-row INSERT written directly from the entity metadata (column names and value transformers), on the
 * batch write path. TypeORM's query builder spends most of a batch's time on per-parameter bookkeeping; this keeps
 * the same columns and transformers. With `skipConflicts`, a row whose primary key is stored already is left as it is
 * (`ON CONFLICT DO NOTHING`), and the primary keys of the rows inserted are returned (`RETURNING`: PostgreSQL); without
 * it, none are.
 */
export async function bulkInsert<E extends ObjectLiteral>(
  em: EntityManager,
  target: EntityTarget<E>,
  rows: readonly object[],
  options: { skipConflicts?: boolean } = {},
): Promise<unknown[]> {
  if (rows.length === 0) return [];
  const metadata = em.connection.getMetadata(target);
  const driver = em.connection.driver;
  const postgres = em.connection.options.type === 'postgres';
  const columns = metadata.columns;
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    const placeholders: string[] = [];
    for (const column of columns) {
      const raw = record[column.propertyName];
      const transformer = column.transformer;
      const value =
        transformer !== undefined && !Array.isArray(transformer) ? (transformer.to(raw) as unknown) : raw;
      params.push(
        value === undefined ? null : typeof value === 'boolean' && !postgres ? Number(value) : value,
      );
      placeholders.push(postgres ? `$${params.length}` : '?');
    }
    tuples.push(`(${placeholders.join(', ')})`);
  }
  const table =
    metadata.schema === undefined
      ? driver.escape(metadata.tableName)
      : `${driver.escape(metadata.schema)}.${driver.escape(metadata.tableName)}`;
  const names = columns.map((c) => driver.escape(c.databaseName)).join(', ');
  const sql = `INSERT INTO ${table} (${names}) VALUES ${tuples.join(', ')}`;
  if (options.skipConflicts !== true) {
    await em.query(sql, params);
    return [];
  }
  const primary = metadata.primaryColumns[0];
  if (primary === undefined) throw new Error(`${metadata.tableName} has no primary key to skip conflicts on`);
  const key = driver.escape(primary.databaseName);
  const returned: unknown = await em.query(
    `${sql} ON CONFLICT (${key}) DO NOTHING RETURNING ${key} AS k`,
    params,
  );
  return Array.isArray(returned)
    ? returned.map((row: unknown) =>
        typeof row === 'object' && row !== null ? (row as { k?: unknown }).k : undefined,
      )
    : [];
}
