FROM alpine:3.20 AS base
USER 1000
RUN echo hi
USER root

FROM base
RUN apk add --no-cache jq
CMD ["jq"]
