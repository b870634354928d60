/**
 * Prepares a Temporal server that Slipway did not start (TEMPORAL_ADDRESS) for it: the namespace
 * must exist, and Slipway's custom search attributes are registered on it. The dev server that
 * Slipway starts gets them on its command line. Every process that talks to Temporal (`slipway
 * worker`, `slipway api`, `slipway up` with TEMPORAL_ADDRESS) does this when it starts, and
 * `slipway setup` does it once for a fresh cluster; several processes starting at once race
 * for the same registration, and each of them ends with every attribute registered.
 */
import { temporalConnectionOptions } from './connection-options';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { SlipwayError } from '../errors';

/** gRPC status codes. */
const GRPC_NOT_FOUND = 5;
/** Refusals that trying again does not change: INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED. */
const GRPC_FINAL = new Set([3, 7, 16]);

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : JSON.stringify(err));

const TYPES = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/** How long registering may take, retries and the server's namespace cache included. */
const REGISTRATION_WAIT_MS = 60_000;

function missingOf(existing: Record<string, unknown>): Array<[string, keyof typeof TYPES]> {
  return Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in existing));
}

/**
 * Checks that the namespace exists and registers the search attributes it lacks. Returns the
 * names this call added (none when they were all there, or another process added them).
 * Throws a SlipwayError naming the server and the namespace when the namespace does not exist,
 * and one naming the attributes when they cannot be registered.
 */
export async function ensureSearchAttributes(address: string, namespace = 'default'): Promise<string[]> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 10_000, ...temporalConnectionOptions() });
  } catch (err) {
    throw new SlipwayError(`cannot reach the Temporal server at ${address}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    try {
      await connection.workflowService.describeNamespace({ namespace });
    } catch (err) {
      if (isGrpcServiceError(err) && Number(err.code) === GRPC_NOT_FOUND) {
        throw new SlipwayError(
          `the Temporal server at ${address} has no namespace "${namespace}": create it first ` +
            `(temporal operator namespace create --namespace ${namespace} --address ${address}; the temporalio/auto-setup image creates it)`,
        );
      }
      throw err;
    }
    const added: string[] = [];
    let lastError: unknown;
    // A cluster's frontends see a new mapping when their namespace cache refreshes (about 10 s):
    // until then the list lacks it and adding it again is refused as existing. Both end here.
    const deadline = Date.now() + REGISTRATION_WAIT_MS;
    for (;;) {
      const existing = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = missingOf(existing.customAttributes ?? {});
      if (missing.length === 0) return added;
      const final = isGrpcServiceError(lastError) && GRPC_FINAL.has(Number(lastError.code));
      if (final || Date.now() > deadline) {
        throw new SlipwayError(
          `cannot register the search attributes ${missing.map(([n]) => n).join(', ')} on namespace "${namespace}" at ${address}` +
            `${lastError === undefined ? ' (the server did not list them within 60 s)' : `: ${messageOf(lastError)}`} ` +
            '(registering needs the admin role on the namespace when the server has an authorizer: run `slipway setup` with an admin token)',
        );
      }
      try {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPES[type]])),
        });
        for (const [name] of missing) if (!added.includes(name)) added.push(name);
      } catch (err) {
        // Another process registered some of them first (ALREADY_EXISTS), or changed the
        // namespace's mapping at the same moment: list again and add what is still missing.
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
}
