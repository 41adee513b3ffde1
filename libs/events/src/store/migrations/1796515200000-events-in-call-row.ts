import {
  type MigrationInterface,
  type QueryRunner,
  Table,
  TableColumn,
  TableForeignKey,
  TableIndex,
} from 'typeorm';

/** Calls moved per step. */
const CHUNK = 500;

/** One event as `calls.events` keeps it. */
interface MovedEvent {
  id: string;
  type: string;
  at: string;
  instance: string;
  data: unknown;
}

/**
 * A call's events move into its row: `calls.events` (JSON text, an array in arrival order) replaces the table
 * `call_events`. One row per call instead of one per event, which was most of what recording a call cost. Existing
 * events are moved, a chunk of calls at a time; `down` moves them back. `NULL` (a call stored before, without
 * events) reads as no events.
 */
export class EventsInCallRow1796515200000 implements MigrationInterface {
  name = 'EventsInCallRow1796515200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The foreign key goes first: on SQLite, adding the column rebuilds `calls`, and dropping the old table would
    // cascade to the events.
    await queryRunner.dropForeignKey('call_events', 'FK_call_events_call');
    await queryRunner.addColumn('calls', new TableColumn({ name: 'events', type: 'text', isNullable: true }));
    const sql = dialect(queryRunner);
    let after = '';
    for (;;) {
      const ids = (
        await select<{ call_id: string }>(
          queryRunner,
          `SELECT DISTINCT call_id FROM ${sql.table('call_events')} WHERE call_id > ${sql.param(1)} ` +
            `ORDER BY call_id LIMIT ${CHUNK}`,
          [after],
        )
      ).map((r) => r.call_id);
      if (ids.length === 0) break;
      const rows = await select<MovedEvent & { call_id: string; data: string }>(
        queryRunner,
        `SELECT id, call_id, type, at, instance, data FROM ${sql.table('call_events')} ` +
          `WHERE call_id IN (${ids.map((_, i) => sql.param(i + 1)).join(', ')}) ORDER BY call_id, at, id`,
        ids,
      );
      const byCall = new Map<string, MovedEvent[]>();
      for (const row of rows) {
        const events = byCall.get(row.call_id) ?? [];
        events.push({
          id: row.id,
          type: row.type,
          at: row.at,
          instance: row.instance,
          data: parse(row.data),
        });
        byCall.set(row.call_id, events);
      }
      for (const [id, events] of byCall) {
        await queryRunner.query(
          `UPDATE ${sql.table('calls')} SET events = ${sql.param(1)} WHERE id = ${sql.param(2)}`,
          [JSON.stringify(events), id],
        );
      }
      after = ids[ids.length - 1] as string;
    }
    await queryRunner.dropTable('call_events');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The foreign key is added last: on SQLite, dropping the column rebuilds `calls`, which would cascade.
    await queryRunner.createTable(
      new Table({
        name: 'call_events',
        columns: [
          {
            name: 'id',
            type: 'varchar',
            length: '64',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_call_events',
          },
          { name: 'call_id', type: 'varchar', length: '64' },
          { name: 'type', type: 'varchar', length: '255' },
          { name: 'at', type: 'varchar', length: '32' },
          { name: 'instance', type: 'varchar', length: '255' },
          { name: 'data', type: 'text' },
        ],
        indices: [new TableIndex({ name: 'IDX_call_events_call_at', columnNames: ['call_id', 'at', 'id'] })],
      }),
    );
    const sql = dialect(queryRunner);
    let after = '';
    for (;;) {
      const calls = await select<{ id: string; events: string }>(
        queryRunner,
        `SELECT id, events FROM ${sql.table('calls')} WHERE id > ${sql.param(1)} AND events IS NOT NULL ` +
          `ORDER BY id LIMIT ${CHUNK}`,
        [after],
      );
      if (calls.length === 0) break;
      for (const call of calls) {
        const events = parse(call.events);
        if (!Array.isArray(events)) continue;
        for (const e of events as MovedEvent[]) {
          await queryRunner.query(
            `INSERT INTO ${sql.table('call_events')} (id, call_id, type, at, instance, data) VALUES ` +
              `(${[1, 2, 3, 4, 5, 6].map((i) => sql.param(i)).join(', ')}) ON CONFLICT DO NOTHING`,
            [e.id, call.id, e.type, e.at, e.instance, JSON.stringify(e.data ?? {})],
          );
        }
      }
      after = (calls[calls.length - 1] as { id: string }).id;
    }
    await queryRunner.dropColumn('calls', 'events');
    await queryRunner.createForeignKey(
      'call_events',
      new TableForeignKey({
        name: 'FK_call_events_call',
        columnNames: ['call_id'],
        referencedTableName: 'calls',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
      }),
    );
  }
}

async function select<T>(queryRunner: QueryRunner, query: string, params: unknown[]): Promise<T[]> {
  const rows: unknown = await queryRunner.query(query, params);
  return Array.isArray(rows) ? (rows as T[]) : [];
}

/** Table names (in the configured schema on PostgreSQL) and positional parameters of the connection's driver. */
function dialect(queryRunner: QueryRunner): { table(name: string): string; param(index: number): string } {
  const options = queryRunner.connection.options;
  const driver = queryRunner.connection.driver;
  const postgres = options.type === 'postgres';
  const schema = postgres ? options.schema : undefined;
  return {
    table: (name) =>
      schema === undefined ? driver.escape(name) : `${driver.escape(schema)}.${driver.escape(name)}`,
    param: (index) => (postgres ? `$${index}` : '?'),
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
