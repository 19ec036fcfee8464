# One image for the worker and the lab: the compiled project on Node 20.
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
# The lab keeps its state in /data (a named volume takes this ownership on first mount).
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["node", "dist/workers/main.js"]
