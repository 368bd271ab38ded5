# syntax=docker/dockerfile:1
# Build: compile TypeScript with all dependencies. `npm run build` (tsconfig.build.json) compiles
# src/main.ts and what it imports, nothing else: the reference services, the dev stack and the
# typed client (SDK) are not part of the gateway, and .dockerignore keeps them out of the context.
# package.json names the typed client's workspace (packages/client): absent here, npm ci skips it.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled gateway only, as the unprivileged `node` user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3002
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3002)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node as PID 1 receives SIGTERM directly; the gateway drains and exits 0.
CMD ["node", "dist/main.js"]
