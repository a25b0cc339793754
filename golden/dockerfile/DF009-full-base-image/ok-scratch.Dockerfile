FROM golang:1.22 AS build
RUN apt-get update && apt-get install -y gcc make
RUN go build -o /app .
FROM scratch
COPY --from=build /app /app
ENTRYPOINT ["/app"]
