/**
 * The history DataSource for the TypeORM CLI: the app's entities, migrations and options, with DATABASE_URL and
 * DB_SCHEMA read from the environment as the app reads them. From the repository root:
 *
 *   export NODE_OPTIONS='-r tsconfig-paths/register' TS_NODE_TRANSPILE_ONLY=1
 *   DATABASE_URL=postgres://… npx typeorm-ts-node-commonjs -d libs/events/src/store/data-source.ts migration:show
 *   DATABASE_URL=postgres://… npx typeorm-ts-node-commonjs -d libs/events/src/store/data-source.ts migration:run
 *   npx typeorm-ts-node-commonjs -d libs/events/src/store/data-source.ts migration:generate \
 *     libs/events/src/store/migrations/<name>          (then review it: it must run on both drivers)
 *
 * or, compiled (`npm run build` rewrites the aliases): `npx typeorm -d dist/libs/events/src/store/data-source.js
 * migration:run`. A new migration goes in `./migrations`, uses the QueryRunner API (Table, TableIndex…) rather than
 * dialect SQL, and is added to STORE_MIGRATIONS in store-options.ts.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { eventsConfig } from '../events.config';
import { buildDataSourceOptions, STORE_ENTITIES } from './store-options';

export default new DataSource({
  ...buildDataSourceOptions(eventsConfig.parse(process.env)),
  entities: STORE_ENTITIES,
});
