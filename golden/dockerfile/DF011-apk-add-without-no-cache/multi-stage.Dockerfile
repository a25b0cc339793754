ARG ALPINE=alpine:3.20

# A builder stage is thrown away: left alone.
FROM ${ALPINE} AS build
RUN apk add go
RUN go build -o /out/app ./...

FROM ${ALPINE} AS base
RUN apk add ca-certificates

FROM base
RUN apk add -t .run-deps tzdata
COPY --from=build /out/app /app
