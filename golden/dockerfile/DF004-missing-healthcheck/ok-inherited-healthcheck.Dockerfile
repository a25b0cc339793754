FROM node:20-alpine AS base
HEALTHCHECK CMD ["wget", "-q", "--spider", "http://127.0.0.1:3000/health"]

FROM base AS app
COPY . /app
EXPOSE 3000
CMD ["node", "/app/index.js"]
