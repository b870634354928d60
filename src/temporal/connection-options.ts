/**
 * How Slipway's processes authenticate to a Temporal server they did not start (the
 * production-like setup): mutual TLS with a client certificate, and a bearer token for the
 * server's authorizer. The same environment variables as the Temporal CLI:
 *   TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY   client certificate and key (PEM files)
 *   TEMPORAL_TLS_CA                       the CA that signed the server's certificate
 *   TEMPORAL_TLS_SERVER_NAME              the name to check in it, when not the address's host
 *   TEMPORAL_API_KEY                      a token sent as `authorization: Bearer …` (JWT for the
 *                                         default authorizer and claim mapper)
 * None set: plain gRPC, as with the dev server on loopback. Values are read from files at
 * connect time and never logged.
 */
import * as fs from 'node:fs';
import { SlipwayError } from '../errors';

export interface TemporalConnectionOptions {
  tls?: {
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverRootCACertificate?: Buffer;
    serverNameOverride?: string;
  };
  apiKey?: string;
}

function readPem(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const file = env[name];
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new SlipwayError(`${name}=${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

export function temporalConnectionOptions(env: NodeJS.ProcessEnv = process.env): TemporalConnectionOptions {
  const crt = readPem(env, 'TEMPORAL_TLS_CERT');
  const key = readPem(env, 'TEMPORAL_TLS_KEY');
  if (!!crt !== !!key) throw new SlipwayError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither');
  const ca = readPem(env, 'TEMPORAL_TLS_CA');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  const options: TemporalConnectionOptions = {};
  if (crt || ca || serverName) {
    options.tls = {
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(serverName ? { serverNameOverride: serverName } : {}),
    };
  }
  if (env.TEMPORAL_API_KEY) options.apiKey = env.TEMPORAL_API_KEY;
  return options;
}
