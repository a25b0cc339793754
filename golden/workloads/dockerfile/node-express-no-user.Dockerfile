# workload: an Express API on node:20-alpine without a USER (the Dockerfile most Node tutorials show)
# expect: final.USER = "1000:1000"
# expect: final.CMD = ["node", "server.js"]; final.FROM = node:20-alpine
# expect: final.HEALTHCHECK absent
# expect: fix of DF004 is display-only
# evidence: nodejs/docker-node docs/BestPractices.md#L74-L78
# evidence: nodejs/docker-node 24/trixie/Dockerfile#L3-L4
# evidence: nodejs/docker-node docker-entrypoint.sh#L7-L11
FROM node:20-alpine

WORKDIR /usr/src/app

COPY package*.json ./
RUN npm ci --omit=dev

COPY . .

EXPOSE 3000
CMD ["node", "server.js"]
