/**
 * The worker process: `node dist/workers/main.js`. Configuration comes from the environment (workers/config.ts;
 * the Temporal connection, including an API key or mTLS, from temporal/connection-config.ts).
 * Every line it writes to stdout is one JSON object (pino); activity lines name the workflow, run, ticket and step.
 * With GMSA_METRICS_ADDRESS set, Prometheus scrapes `/metrics` there.
 * SIGINT/SIGTERM drain it gracefully (the Temporal runtime installs those handlers).
 */
import { runWorkerProcess } from './process';

runWorkerProcess({ service: 'gmsa-worker' });
