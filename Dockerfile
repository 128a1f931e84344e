# Modelgate container image: the production bundle (scripts/build.ts) on Node 24 LTS, non-root.
#   docker build -t modelgate .
#   docker run -p 8080:8080 -e MODELGATE_MASTER_KEY=... -e OPENAI_API_KEY=... -v modelgate-data:/data modelgate
# Size estimate and how it was computed: docs/deployment.md.

# --- build: all dependencies, the bundle and the dashboard (dist/dashboard), then only production dependencies kept ---
FROM node:24-bookworm-slim AS build
# better-sqlite3 is a native addon: compiled here when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.ts \
  && npm prune --omit=dev --no-audit --no-fund \
  # the SQLite amalgamation sources and build intermediates are not needed to run
  && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* \
  && npm cache clean --force

# --- runtime: the bundle plus production dependencies, no compiler, no sources ---
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SQLITE_PATH=/data/modelgate.db \
    NODE_COMPILE_CACHE=/data/.node-compile-cache
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains requests and flushes records (src/main.ts); give it the 30 s it may take.
STOPSIGNAL SIGTERM
CMD ["node", "dist/modelgate.mjs"]
