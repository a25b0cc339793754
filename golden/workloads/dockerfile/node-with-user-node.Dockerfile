# workload: a Next.js standalone build that already switches to the image's `node` user
# expect: final.USER = node; fix of DF002 is absent
# expect: final.CMD = ["node", "server.js"]; stages[deps].FROM = node:20-alpine
# evidence: nodejs/docker-node 24/trixie/Dockerfile#L73-L76
# evidence: nodejs/docker-node docs/BestPractices.md#L74-L78
FROM node:20-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci

FROM node:20-alpine AS builder
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN npm run build

FROM node:20-alpine AS runner
WORKDIR /app
ENV NODE_ENV=production
COPY --from=builder --chown=node:node /app/.next/standalone ./
COPY --from=builder --chown=node:node /app/.next/static ./.next/static
USER node
EXPOSE 3000
ENV PORT=3000
CMD ["node", "server.js"]
