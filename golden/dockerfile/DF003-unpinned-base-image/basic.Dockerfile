FROM python
WORKDIR /app
COPY . .
FROM node:latest
CMD ["node", "server.js"]
