# syntax=docker/dockerfile:1.10
FROM golang:1.22 AS build
ARG GOPRIVATE_TOKEN=glpat-FAKEfake0123456789abcd
RUN git config --global url."https://oauth2:${GOPRIVATE_TOKEN}@gitlab.com/".insteadOf "https://gitlab.com/" \
 && go build -o /app .

FROM gcr.io/distroless/static-debian12
# the AWS key id is a credential whatever the name
ENV S3_ID=AKIAFAKE0EXAMPLE0123 \
    S3_BUCKET=assets
COPY --from=build /app /app
ENTRYPOINT ["/app"]
