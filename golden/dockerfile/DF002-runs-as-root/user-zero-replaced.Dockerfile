FROM node:20-alpine
WORKDIR /app
COPY . .
RUN npm ci
USER 0:0
CMD ["node", "index.js"]
