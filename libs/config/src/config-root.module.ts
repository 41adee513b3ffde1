import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { Env, EnvNamespace } from './env-config';

/** Injection token of the environment the app was configured from (for `${VAR}` interpolation in YAML files). */
export const ENV = Symbol('ENV');

/**
 * The app's configuration root: loads every namespace from one environment (process.env in production, an
 * explicit map in tests) so that several app instances with different settings can live in one process.
 */
@Global()
@Module({})
export class ConfigRootModule {
  static forRoot(env: Env, namespaces: readonly EnvNamespace[]): DynamicModule {
    return {
      module: ConfigRootModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          isGlobal: true,
          load: namespaces.map((n) => n.withEnv(env)),
        }),
      ],
      providers: [{ provide: ENV, useValue: env }],
      exports: [ENV, ConfigModule],
    };
  }
}
