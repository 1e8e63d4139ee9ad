# The Function App on the Azure Functions Node.js base image.
#   production:  docker compose --profile prod up --build   (the built bundle, as deployed)
#   development: docker compose --profile dev up            (source mounted, rebuilt on change)

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The Core Tools download cannot matter here: the image brings its own Functions host.
RUN npm ci --no-audit --no-fund --omit=optional
COPY . .
RUN npm run build

# Everything the host needs is in dist/ (the bundle with its chunks, and the web console's files in dist/console),
# so no node_modules are shipped.
FROM mcr.microsoft.com/azure-functions/node:4-node22 AS production
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true
WORKDIR /home/site/wwwroot
COPY host.json package.json ./
COPY --from=build /src/dist ./dist

# Source is mounted at /home/site/wwwroot; esbuild rebuilds dist/ on change and the host,
# which watches dist/ (host.json watchDirectories), restarts the worker.
FROM mcr.microsoft.com/azure-functions/node:4-node22 AS development
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true
WORKDIR /home/site/wwwroot
CMD ["sh", "-c", "npm ci --no-audit --no-fund --omit=optional && npm run build && (node esbuild.config.mjs --watch &) && exec /opt/startup/start_nonappservice.sh"]
