# syntax=docker/dockerfile:1
#
# The controller image: a Node 24 build stage, then a distroless, non-root runtime with only the compiled
# JavaScript, the production node_modules and package.json ("type": "module").
#
#   docker build -t secrets-store-sync-controller-ts:0.1.0 .
#   docker run --rm secrets-store-sync-controller-ts:0.1.0 version
#
# No Docker engine runs where this project is developed, so CI cannot build it; the steps are the ones
# `integration/chart` and docs/chart.md describe, reproduced outside Docker in docs/chart.md ("The image").

ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# Dependencies first, so this layer is cached until the lock file changes. No install script is needed to build
# or run: the only one package.json allows is the `node` devDependency's, which downloads a second Node binary
# for development. Scripts are skipped and that package's dangling bin link removed, so the image's Node builds.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && rm -f node_modules/.bin/node
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY transports ./transports
COPY plugins ./plugins
COPY proto ./proto
COPY bench ./bench
COPY integration/cluster ./integration/cluster
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="secrets-store-sync-controller-ts" \
      org.opencontainers.image.description="Secrets Store Sync Controller (TypeScript)" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# Owned by root and not writable by the runtime user; the chart also mounts the root filesystem read-only.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production
# distroless "nonroot" (65532), the user the chart's securityContext expects.
USER 65532:65532
# /readyz and /healthz; Prometheus metrics.
EXPOSE 8081 8085
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "/app/dist/core/cli/main.js"]
CMD ["run"]
