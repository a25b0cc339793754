FROM alpine:3.20 AS base
RUN addgroup -S app && adduser -S -G app app
USER app

FROM base AS final
COPY app /app
CMD ["/app"]
