# One image for every project service in docker-compose.yml: the compiled project on Node 20. The command picks the
# role: `node dist/workers/main.js` (worker, the default), `node dist/cli/main.js serve` (webhook server),
# `node dist/cli/main.js setup` (prepare a cluster), `node dist/backends/lab/main.js` (the lab domain).
# Nothing secret is baked in: the Temporal API key / mTLS material and the webhook and ticket secrets come from the
# container's environment at run time (.dockerignore keeps .state, node_modules and dist out of the build context).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/examples ./examples
COPY package.json ./
# Writable state, owned by the unprivileged user (a named volume takes this ownership on first mount):
# /data for the lab's state file, /app/.state for the webhook server's replay store (.state/webhooks/replay.json).
RUN mkdir -p /data /app/.state && chown node:node /data /app/.state
USER node
CMD ["node", "dist/workers/main.js"]
