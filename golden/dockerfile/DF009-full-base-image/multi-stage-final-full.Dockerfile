FROM golang:1.22 AS build
RUN go build -o /app .

FROM debian:bookworm AS runtime
COPY --from=build /app /app

FROM runtime
CMD ["/app"]
