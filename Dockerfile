# One image for every Orquestra process: the API (default), the Temporal worker and the migrations.
# There is no build step: TypeScript runs through tsx, which is a runtime dependency.
#   docker build -t orquestra .
#   docker run ... orquestra                              # API      (= npm run api)
#   docker run ... orquestra tsx workers/main.ts          # worker   (= npm run worker)
#   docker run ... orquestra tsx scripts/migrate.ts       # migrate  (= npm run migrate)
FROM node:20-bookworm-slim

# CA roots for TLS from the native Temporal client (Temporal Cloud) and outgoing HTTPS.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so source changes do not reinstall them. Everything needed at runtime
# (tsx included) is in "dependencies"; typescript, eslint, @types/* and @temporalio/testing are not.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY api ./api
COPY activities ./activities
COPY db ./db
COPY domain ./domain
COPY infra ./infra
COPY scripts ./scripts
COPY workers ./workers
COPY workflows ./workflows

# Files stay root-owned and read-only for the process; tsx keeps its cache in /tmp.
USER node
ENV PATH=/app/node_modules/.bin:$PATH

# 3000: API (PORT); 9464: worker Prometheus metrics (WORKER_METRICS_PORT).
EXPOSE 3000 9464

# Same as `npm run api`, but without npm and a shell between the container's init and the process,
# so SIGTERM reaches the API (and, with `tsx workers/main.ts`, the worker) for a graceful shutdown.
CMD ["tsx", "api/server.ts"]
