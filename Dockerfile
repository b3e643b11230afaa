# syntax=docker/dockerfile:1
# The app's production image: Node 22, the Remix production build, Prisma on its WebAssembly
# engines (nothing is downloaded from Prisma's servers). Migrations are applied at start.
#
#   docker build -t refersion-forwarder .
#   docker run --init -p 3000:3000 --env-file .env -v refersion-data:/data refersion-forwarder
#
# DATABASE_URL defaults to a SQLite file on the /data volume (one instance). For several
# instances, pass a postgres:// URL (docs/deployment.md).

FROM node:22-slim AS base
# npm 11 honours package.json "allowScripts": dependency install scripts stay off (Prisma's
# would try to download native engines), while the root postinstall generates both clients.
RUN npm install -g npm@11.19.1 && npm cache clean --force \
 && mkdir -p /app /data && chown node:node /app /data
WORKDIR /app
USER node
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# What `npm ci` needs: the lockfile, and for the postinstall (npm run db:generate) the Prisma
# config, both schemas and the adapter code prisma.config.ts imports.
FROM base AS install-inputs
COPY --chown=node:node package.json package-lock.json prisma.config.ts ./
COPY --chown=node:node prisma ./prisma
COPY --chown=node:node app/database ./app/database

FROM install-inputs AS build
RUN npm ci
COPY --chown=node:node . .
RUN npm run build

FROM install-inputs AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATABASE_URL=file:/data/app.sqlite
# Production dependencies only. `prisma` is one of them: `npm run setup` runs its CLI at start.
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build --chown=node:node /app/build ./build
COPY --from=build --chown=node:node /app/public ./public
# `npm run worker` (the delivery worker without the web server), for a worker-only container.
COPY --from=build --chown=node:node /app/server ./server
VOLUME ["/data"]
EXPOSE 3000
# 200 when the database answers and the delivery worker is making passes (docs/deployment.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Generate the clients, apply pending migrations (a no-op when there are none), then serve.
CMD ["sh", "-c", "npm run setup && exec npm start"]
