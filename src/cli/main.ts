#!/usr/bin/env node
/**
 * The `lightws` command (package.json `bin`). A server here is one process, made as dense as a
 * cluster worker: V8's young generation stays at 1 MiB per semi-space unless node's own flags size
 * it (docs/cli.md). That is set before the rest of lightws is loaded, since loading it already grows
 * the young generation on Node 24+ (to 8 MiB), and V8 does not give that back.
 */
import { limitYoungGeneration } from '../young-generation.js';

limitYoungGeneration();
await import('./run.js');
