# workload: an Express API on node:20-alpine without a USER (the Dockerfile most Node tutorials show)
# expect: final.USER = "1000:1000"
# expect: final.CMD = ["node", "server.js"]; final.FROM = node:20-alpine
# expect (known-defect): final.HEALTHCHECK absent
# expect (known-defect): fix of DF004 is display-only
# known-defect: DF004 applies a HEALTHCHECK that probes `http://127.0.0.1:3000/` of an application nothing is known about (node is a runtime: the routes are the app's); an API that answers 404 on `/` is then unhealthy and `depends_on: condition: service_healthy` or autoheal act on it. ARCHITECTURE §1 lists a healthcheck command among the values only a human knows (DisplayOnly)
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
