# syntax=docker/dockerfile:1
# The example service (examples/service) as a small production image:
#   docker build -t fastify-zero-downtime-example .
# Kubernetes runs it with k8s/; see docs/kubernetes.md.
ARG NODE_VERSION=22

# 1. Build: the library with tshy (dist/), then the example, compiled by tsc to
#    plain JavaScript (examples/service/build/) so the runtime needs neither
#    TypeScript nor tsx.
FROM node:${NODE_VERSION}-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY examples/service/package.json ./examples/service/
RUN npm ci --ignore-scripts --no-audit --no-fund -w examples/service --include-workspace-root
COPY tsconfig.json ./
COPY .tshy ./.tshy
COPY src ./src
COPY examples/service ./examples/service
RUN npx tshy && npm run build -w examples/service

# 2. Production dependencies only, at the versions of package-lock.json: the
#    example service's own dependencies (examples/service/package.json) and the
#    plugin's. The load-test kit (kit/) is not in the build context's copy, so
#    none of its packages are installed.
FROM node:${NODE_VERSION}-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY examples/service/package.json ./examples/service/
RUN npm ci --omit=dev -w examples/service --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# 3. Runtime: node, tini, the compiled code and production node_modules.
FROM node:${NODE_VERSION}-alpine AS runtime
# tini as PID 1: forwards SIGTERM to node and reaps zombies. Node started as
# PID 1 itself gets no default signal handling, and `npm start` would not
# forward SIGTERM at all: the drain would never start.
RUN apk add --no-cache tini
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# package.json and dist/: the plugin, which node_modules/fastify-zero-downtime
# links to (`import ... from 'fastify-zero-downtime'` resolves to dist/). The
# example's package.json gives its build/ "type": "module".
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/examples/service/package.json ./examples/service/
COPY --from=build /app/examples/service/build ./examples/service/build
# The `node` user (uid 1000) of the official image; k8s/ runs it with
# runAsNonRoot and a read-only root filesystem, which this image supports.
USER node
EXPOSE 3000
# Kubernetes sends SIGTERM whatever this says; `docker stop` follows it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["node", "--enable-source-maps", "examples/service/build/server.js"]
