/**
 * Azurite (in memory, free loopback ports) in its own process, so that the audit writes of the
 * local host under load do not share the host's event loop with the emulator. Started the same
 * way the local host starts it when no storage is configured (src/host/embedded_azurite.ts).
 * Prints {"ready":true,"connectionString":...} once it listens.
 */
import { startEmbeddedAzurite } from "../../src/host/embedded_azurite.js";
import { announce, exitWithParent } from "./child_guard.js";

const azurite = await startEmbeddedAzurite("127.0.0.1");
announce({ connectionString: azurite.connectionString, ports: azurite.ports });
exitWithParent(() => azurite.close());
