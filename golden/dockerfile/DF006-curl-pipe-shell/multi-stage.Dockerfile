FROM node:22 AS build
RUN curl -fsSL https://bun.sh/install | bash
RUN npm ci && npm run build

FROM nginx:1.27-alpine
RUN wget -O - https://example.com/nginx-extras.sh | ash
COPY --from=build /app/dist /usr/share/nginx/html
