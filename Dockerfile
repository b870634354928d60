# Slipway's image: the worker, the API and the router run from it (docker-compose.yml).
FROM node:20.19.5-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git curl ca-certificates bash bubblewrap python3 nginx \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/slipway
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY examples ./examples
RUN npm install --ignore-scripts && npx tsc -p tsconfig.json && npm prune --omit=dev
ENV SLIPWAY_HOME=/data
VOLUME ["/data"]
ENTRYPOINT ["node", "/opt/slipway/bin/slipway.js"]
