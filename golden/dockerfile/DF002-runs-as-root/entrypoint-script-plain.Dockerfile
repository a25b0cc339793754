# The entrypoint script only prepares arguments: nothing in it needs root.
FROM node:22-bookworm-slim
WORKDIR /app
COPY . .
COPY start.sh /start.sh
ENTRYPOINT ["/start.sh"]
