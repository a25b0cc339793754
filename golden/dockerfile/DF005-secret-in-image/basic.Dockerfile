FROM alpine:3.20
ARG GITHUB_TOKEN=ghp_FAKEfake0123456789abcdefghijklmnopqr
RUN apk add --no-cache git
RUN git clone https://x-access-token:${GITHUB_TOKEN}@github.com/org/private.git /src
ENV DB_PASSWORD=hunter2-not-real
CMD ["/src/run"]
