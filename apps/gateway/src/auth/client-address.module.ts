import { Module } from '@nestjs/common';
import { ClientAddress } from './client-address';

/** The client address resolver (TRUST_PROXY), shared by the app, the rate limiter and the Express setup. */
@Module({ providers: [ClientAddress], exports: [ClientAddress] })
export class ClientAddressModule {}
