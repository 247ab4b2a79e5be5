# syntax=docker/dockerfile:1
# The example service (examples/service) as a small production image:
#   docker build -t fastify-zero-downtime-example .
# Kubernetes runs it with k8s/; see docs/kubernetes.md.
ARG NODE_VERSION=22

# 1. Build: the library with tshy (dist/), then the example, compiled by tsc to
#    plain JavaScript (build/) so the runtime needs neither TypeScript nor tsx.
FROM node:${NODE_VERSION}-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.image.json ./
COPY .tshy ./.tshy
COPY src ./src
COPY examples/service ./examples/service
RUN npm run build && npx tsc -p tsconfig.image.json

# 2. Production dependencies only, at the versions of package-lock.json. The
#    example also needs what the library leaves to its users (fastify, a peer
#    dependency) and the drivers it uses: they are devDependencies of the
#    library, so they are moved to dependencies here before installing.
FROM node:${NODE_VERSION}-alpine AS deps
WORKDIR /app
ARG EXAMPLE_DEPENDENCIES="fastify pg ioredis amqplib"
COPY package.json package-lock.json ./
RUN node -e ' \
      const fs = require("node:fs"); \
      const pkg = JSON.parse(fs.readFileSync("package.json", "utf8")); \
      for (const name of process.argv.slice(1)) pkg.dependencies[name] = pkg.devDependencies[name] ?? pkg.peerDependencies[name]; \
      pkg.devDependencies = {}; pkg.scripts = {}; \
      fs.writeFileSync("package.json", JSON.stringify(pkg)); \
    ' ${EXAMPLE_DEPENDENCIES} \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund \
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
# package.json: "type": "module" and the self-reference that resolves
# `import ... from 'fastify-zero-downtime'` to dist/.
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
# The `node` user (uid 1000) of the official image; k8s/ runs it with
# runAsNonRoot and a read-only root filesystem, which this image supports.
USER node
EXPOSE 3000
# Kubernetes sends SIGTERM whatever this says; `docker stop` follows it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["node", "--enable-source-maps", "build/examples/service/server.js"]
